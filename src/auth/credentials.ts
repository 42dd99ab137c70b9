import type { Database } from "../db/database.js";
import { apiKeyRepository } from "../modules/members/api-key.repository.js";
import { projectRepository } from "../modules/projects/project.repository.js";
import type { Actor } from "./actor.js";
import { constantTimeEqual, hashSecret } from "./secrets.js";

/** The credential parts of a request, from HTTP headers or graphql-ws connectionParams. */
export interface PresentedCredentials {
  authorization?: string | null;
  publicToken?: string | null;
}

const maxCredentialLength = 512;

/**
 * Every key, secret, token and project id Masquerade issues is printable ASCII (URL-safe). Anything
 * else (a NUL, a control character, non-ASCII, what was invalid UTF-8) is refused before any
 * statement runs: PostgreSQL refuses a NUL with an error instead of finding nothing.
 */
const credentialText = /^[\x21-\x7e]+$/;
const base64Text = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Turns a presented credential into an actor. A credential that is present but wrong yields
 * `invalid` (never a thrown error), so that the authChecker answers UNAUTHENTICATED in-band.
 */
export async function resolveActor(db: Database, credentials: PresentedCredentials): Promise<Actor> {
  const authorization = credentials.authorization?.trim();
  if (authorization) {
    if (authorization.length > maxCredentialLength) return { kind: "invalid" };
    const [scheme, value] = splitScheme(authorization);
    if (scheme === "bearer" && credentialText.test(value)) return resolveMember(db, value);
    if (scheme === "basic" && value) return resolveBackend(db, value);
    return { kind: "invalid" };
  }
  const publicToken = credentials.publicToken?.trim();
  if (publicToken) {
    if (publicToken.length > maxCredentialLength || !credentialText.test(publicToken)) return { kind: "invalid" };
    const project = await projectRepository.findByPublicTokenHash(db.sql, hashSecret(publicToken));
    return project ? { kind: "frontend", project } : { kind: "invalid" };
  }
  return { kind: "anonymous" };
}

function splitScheme(header: string): [string, string] {
  const space = header.indexOf(" ");
  if (space < 0) return [header.toLowerCase(), ""];
  return [header.slice(0, space).toLowerCase(), header.slice(space + 1).trim()];
}

async function resolveMember(db: Database, apiKey: string): Promise<Actor> {
  // One statement: the key, by its hash, and its member.
  const apiKeyHash = hashSecret(apiKey);
  const member = await apiKeyRepository.findMemberByKeyHash(db.sql, apiKeyHash);
  if (!member || member.disabled) return { kind: "invalid" };
  return { kind: "member", member, apiKeyHash };
}

async function resolveBackend(db: Database, encoded: string): Promise<Actor> {
  // Buffer.from skips what is not base64 and decodes bytes leniently: check both first.
  if (!base64Text.test(encoded)) return { kind: "invalid" };
  const decoded = Buffer.from(encoded, "base64").toString("latin1");
  if (!credentialText.test(decoded)) return { kind: "invalid" };
  const colon = decoded.indexOf(":");
  if (colon <= 0) return { kind: "invalid" };
  const projectId = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  const project = projectId.length <= 64 ? await projectRepository.findById(db.sql, projectId) : null;
  // Hash even when the project is unknown so that both paths cost the same.
  const presentedHash = hashSecret(secret);
  if (!project) return { kind: "invalid" };
  return constantTimeEqual(project.secretHash, presentedHash) ? { kind: "backend", project } : { kind: "invalid" };
}
