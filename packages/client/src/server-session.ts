import type { SdkSessionFragment, SdkUserFragment } from "./generated/sdk-documents.js";
import { modeFromClaim, modeFromEnum, unverifiedClaims, type MasqueradeSession, type MasqueradeUser } from "./session.js";

/**
 * The SDK's view of a session the server returned. The mode comes from `Session.mode` when the
 * server has it, else from the `imp` claim of the JWT the server just issued with it.
 */
export function sessionFromServer(session: SdkSessionFragment & { mode?: unknown }, sessionJwt: string | null): MasqueradeSession {
  const mode = session.mode !== undefined ? modeFromEnum(session.mode) : modeFromClaim(sessionJwt ? unverifiedClaims(sessionJwt).imp : undefined);
  return {
    sessionId: session.id,
    userId: session.userId,
    projectId: session.projectId,
    impersonator: { id: session.impersonatorId, email: session.impersonatorEmail },
    mode,
    expiresAt: new Date(session.expiresAt),
  };
}

export function userFromServer(user: SdkUserFragment): MasqueradeUser {
  return { id: user.id, email: user.email, name: user.name };
}
