/** @masquerade/client/browser — for an application's pages. No dependencies: serve it as is or bundle it. */
export { createBrowserClient, type BrowserClient, type BrowserClientOptions, type BrowserSession } from "./browser-client.js";
export { mountImpersonationBanner, type ImpersonationBanner, type ImpersonationBannerOptions } from "./banner.js";
export type { Clock } from "./clock.js";
export { MasqueradeError, isMasqueradeError, type MasqueradeErrorCode } from "./errors.js";
export { requireWritable, type ImpersonationMode, type MasqueradeSession, type MasqueradeUser } from "./session.js";
export type { KeyValueStorage } from "./session-store.js";
