import { anonymous, asBackend, asFrontend, asMember, type Credential } from "./client.js";
import type { World } from "./fixtures.js";

/** The callers of the authorization matrix (SPEC §6), as the world provides them. */
export const matrixCallers = ["ADMIN", "DEVELOPER", "SUPPORT_MANAGER", "VIEWER", "backend", "other project's backend", "frontend", "anonymous"] as const;
export type MatrixCaller = (typeof matrixCallers)[number];

/** Callers whose credential is wrong: each must get UNAUTHENTICATED. */
export const wrongCredentialCallers = ["unknown API key", "wrong project secret", "unknown public token", "unknown authorization scheme"] as const;
export type WrongCredentialCaller = (typeof wrongCredentialCallers)[number];

/** The credential a matrix test presents as `caller`. */
export function credentialOf(world: World, caller: MatrixCaller | WrongCredentialCaller): Credential {
  switch (caller) {
    case "ADMIN":
      return world.admin.credential;
    case "DEVELOPER":
      return world.developer.credential;
    case "SUPPORT_MANAGER":
      return world.supportManager.credential;
    case "VIEWER":
      return world.viewer.credential;
    case "backend":
      return world.backend;
    case "other project's backend":
      return world.other.backend;
    case "frontend":
      return world.frontend;
    case "anonymous":
      return anonymous;
    case "unknown API key":
      return asMember("mk_ThisKeyWasNeverIssuedByTheServer0000000000000");
    case "wrong project secret":
      return asBackend(world.projectId, "ps_NotTheSecretOfThisProject000000000000000000");
    case "unknown public token":
      return asFrontend("pt_ThisPublicTokenWasNeverIssued00000000000000");
    case "unknown authorization scheme":
      return { kind: "raw", headers: { authorization: "Token abc" } };
  }
}
