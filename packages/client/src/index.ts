/**
 * @masquerade/client (SPEC §11): the backend client and, for code that is bundled for a page, the
 * browser client and the banner too (they touch no `document` or `window` until called).
 * `@masquerade/client/browser` holds only the browser part, without `jose`: serve it as is.
 */
export { MasqueradeClient, type AuthenticatedSession, type ExchangedImpersonation, type MasqueradeClientOptions, type SessionReference } from "./backend-client.js";
export { createBrowserClient, type BrowserClient, type BrowserClientOptions, type BrowserSession } from "./browser-client.js";
export { mountImpersonationBanner, type ImpersonationBanner, type ImpersonationBannerOptions } from "./banner.js";
export type { Clock } from "./clock.js";
export { MasqueradeError, isMasqueradeError, type MasqueradeErrorCode } from "./errors.js";
export { requireWritable, type ImpersonationMode, type MasqueradeSession, type MasqueradeUser } from "./session.js";
export type { KeyValueStorage } from "./session-store.js";
export { defaultClockToleranceSeconds, sessionJwtAlgorithm } from "./session-jwt-verifier.js";
