/** @masquerade/client — for an application's backend (Node 20+). The browser client is `@masquerade/client/browser`. */
export { MasqueradeClient, type AuthenticatedSession, type ExchangedImpersonation, type MasqueradeClientOptions, type SessionReference } from "./backend-client.js";
export type { Clock } from "./clock.js";
export { MasqueradeError, isMasqueradeError, type MasqueradeErrorCode } from "./errors.js";
export { requireWritable, type ImpersonationMode, type MasqueradeSession, type MasqueradeUser } from "./session.js";
export { defaultClockToleranceSeconds, sessionJwtAlgorithm } from "./session-jwt-verifier.js";
