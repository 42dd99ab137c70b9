import type { SdkSessionFragment, SdkUserFragment } from "./generated/sdk-documents.js";
import { modeFromEnum, type MasqueradeSession, type MasqueradeUser } from "./session.js";

/** The SDK's view of a session the server returned (`expiresAt`: when the session ends). */
export function sessionFromServer(session: SdkSessionFragment): MasqueradeSession {
  return {
    sessionId: session.id,
    userId: session.userId,
    projectId: session.projectId,
    impersonator: { id: session.impersonatorId, email: session.impersonatorEmail },
    mode: modeFromEnum(session.mode),
    expiresAt: new Date(session.expiresAt),
  };
}

export function userFromServer(user: SdkUserFragment): MasqueradeUser {
  return { id: user.id, email: user.email, name: user.name };
}
