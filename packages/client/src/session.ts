import { MasqueradeError } from "./errors.js";

/** READ_ONLY or READ_WRITE (SPEC §9): what the application should let the impersonator do. */
export type ImpersonationMode = "READ_ONLY" | "READ_WRITE";

/** An impersonation session as the SDK reports it, from a verified JWT or from the server. */
export interface MasqueradeSession {
  sessionId: string;
  /** The impersonated user (the JWT's `sub`). */
  userId: string;
  projectId: string;
  /** The team member viewing as the user (the JWT's RFC 8693 `act` claim). */
  impersonator: { id: string; email: string };
  mode: ImpersonationMode;
  /**
   * When the session ends (its start + 60 minutes), from every method alike. authenticateJwt reads
   * it from the JWT's `session_exp` claim (for a JWT without one, from its `exp`, at most 5 minutes
   * ahead); the JWT itself expires sooner and is refreshed meanwhile.
   */
  expiresAt: Date;
}

export interface MasqueradeUser {
  id: string;
  email: string;
  name: string | null;
}

/**
 * Throws `MasqueradeError('IMPERSONATION_READ_ONLY')` unless the impersonation may write: the one
 * line an application puts in front of each route or action that changes data.
 */
export function requireWritable(session: Pick<MasqueradeSession, "mode"> | null | undefined): void {
  if (!session || session.mode !== "READ_WRITE") throw new MasqueradeError("IMPERSONATION_READ_ONLY");
}

/**
 * The mode of the session JWT's `imp` claim (`{ mode: "read_only" | "read_write" }`). A JWT without
 * a recognisable mode is taken as read-only: when in doubt, the application refuses writes.
 */
export function modeFromClaim(imp: unknown): ImpersonationMode {
  const mode = imp && typeof imp === "object" ? (imp as { mode?: unknown }).mode : undefined;
  return mode === "read_write" ? "READ_WRITE" : "READ_ONLY";
}

/** The mode of a GraphQL `Session.mode` value; anything unexpected is taken as read-only. */
export function modeFromEnum(mode: unknown): ImpersonationMode {
  return mode === "READ_WRITE" ? "READ_WRITE" : "READ_ONLY";
}

/** The payload of a compact JWT, unverified: only to read the `exp` of a JWT the server just handed to this client. */
export function unverifiedClaims(jwt: string): Record<string, unknown> {
  const payload = jwt.split(".")[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return claims && typeof claims === "object" ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
