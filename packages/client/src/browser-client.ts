import { systemClock, type Clock } from "./clock.js";
import { MasqueradeError } from "./errors.js";
import { SdkAuthenticateImpersonationTokenDocument, SdkAuthenticateSessionDocument, SdkRevokeSessionDocument } from "./generated/sdk-documents.js";
import { GraphQLTransport } from "./graphql-transport.js";
import { sessionFromServer, userFromServer } from "./server-session.js";
import { unverifiedClaims, type MasqueradeSession, type MasqueradeUser } from "./session.js";
import { defaultStorage, SessionStore, storageUnavailable, type KeyValueStorage } from "./session-store.js";

export interface BrowserClientOptions {
  /** Masquerade's URL, with or without `/graphql`. The page's origin must be allowed (the project's login redirect URL, or CORS_ORIGINS). */
  url: string;
  /** The project's public token (the frontend credential). */
  publicToken: string;
  /**
   * Where the session is kept: `sessionStorage` by default (one tab, gone when the tab closes), or,
   * where there is none that works (Node, a worker, storage blocked), memory: as long as this client.
   */
  storage?: KeyValueStorage;
  /** The storage key (default `masquerade.session`). */
  storageKey?: string;
  fetch?: typeof fetch;
  clock?: Clock;
}

/** The impersonation session of this tab. */
export interface BrowserSession extends MasqueradeSession {
  /** The impersonated user. */
  user: MasqueradeUser;
  /** The current session JWT: send it to your backend, which verifies it with `authenticateJwt`. */
  sessionJwt: string;
  /** When `sessionJwt` expires (refresh() gets a new one). `expiresAt` is when the session ends. */
  jwtExpiresAt: Date;
}

export interface BrowserClient {
  /**
   * Finishes an impersonation on the login redirect page: reads `token_type=impersonation&token=…`
   * from the address, removes both from the address bar (history.replaceState, before anything
   * else, so the token reaches neither the history nor a Referer), exchanges the token and stores
   * the session. Resolves to null when the address has no impersonation token.
   */
  authenticateByUrl(href?: string): Promise<BrowserSession | null>;
  readonly session: {
    /** The stored session, or null (none, or past its end). Synchronous: no request. */
    current(): BrowserSession | null;
    /** Asks the server for the session's state and a fresh JWT; a revoked or ended session is forgotten and its error thrown. */
    refresh(): Promise<BrowserSession>;
    /** A JWT valid for at least `minValidityMs` more (default 30 s), refreshed if needed; null without a session. */
    jwt(minValidityMs?: number): Promise<string | null>;
    /** Revokes the session with its own token and forgets it. Without a session, does nothing. */
    end(): Promise<void>;
    /** Calls `listener` whenever the session changes (stored, refreshed, ended); returns the unsubscribe function. */
    onChange(listener: (session: BrowserSession | null) => void): () => void;
  };
}

/** Codes after which the stored session is useless and is forgotten. */
const sessionOverCodes = new Set(["SESSION_REVOKED", "SESSION_EXPIRED", "SESSION_NOT_FOUND"]);

/** The client for an application's browser code (SPEC §11). */
export function createBrowserClient(options: BrowserClientOptions): BrowserClient {
  if (typeof options?.url !== "string" || typeof options.publicToken !== "string" || !options.publicToken) {
    throw new MasqueradeError("BAD_USER_INPUT", "createBrowserClient needs url and publicToken");
  }
  const clock = options.clock ?? systemClock;
  const transport = new GraphQLTransport({ url: options.url, headers: { "x-public-token": options.publicToken }, fetch: options.fetch });
  const store = new SessionStore(options.storage ?? defaultStorage(), options.storageKey ?? "masquerade.session");
  const listeners = new Set<(session: BrowserSession | null) => void>();

  const view = (): BrowserSession | null => {
    const stored = store.read();
    if (!stored || stored.session.expiresAt.getTime() <= clock.now().getTime()) return null;
    const exp = unverifiedClaims(stored.sessionJwt).exp;
    return {
      ...stored.session,
      impersonator: { ...stored.session.impersonator },
      user: { ...stored.user },
      sessionJwt: stored.sessionJwt,
      jwtExpiresAt: new Date(typeof exp === "number" ? exp * 1000 : 0),
    };
  };
  const changed = () => {
    const current = view();
    for (const listener of listeners) listener(current);
  };
  const forgetIfOver = (error: unknown) => {
    if (error instanceof MasqueradeError && sessionOverCodes.has(error.code)) {
      store.clear();
      changed();
    }
  };

  async function refreshOnce(): Promise<BrowserSession> {
    const stored = store.read();
    if (!stored) throw new MasqueradeError("SESSION_NOT_FOUND", "There is no impersonation session in this tab");
    try {
      const data = await transport.request(SdkAuthenticateSessionDocument, { sessionToken: stored.sessionToken });
      const result = data.authenticateSession;
      store.write({ sessionToken: stored.sessionToken, sessionJwt: result.sessionJwt, session: sessionFromServer(result.session), user: userFromServer(result.user) });
    } catch (error) {
      forgetIfOver(error);
      throw error;
    }
    changed();
    return view()!;
  }

  /** One refresh at a time: concurrent callers (say, parallel API calls near expiry) share it. */
  let refreshing: Promise<BrowserSession> | null = null;

  const session: BrowserClient["session"] = {
    current: view,
    refresh() {
      refreshing ??= refreshOnce().finally(() => (refreshing = null));
      return refreshing;
    },
    async jwt(minValidityMs = 30_000) {
      const current = view();
      if (!current) return null;
      if (current.jwtExpiresAt.getTime() - clock.now().getTime() >= minValidityMs) return current.sessionJwt;
      return (await session.refresh()).sessionJwt;
    },
    async end() {
      const stored = store.read();
      if (!stored) return;
      try {
        await transport.request(SdkRevokeSessionDocument, { sessionToken: stored.sessionToken });
      } catch (error) {
        // Already over on the server: forgetting it here is all that is left to do.
        if (!(error instanceof MasqueradeError && sessionOverCodes.has(error.code))) throw error;
      }
      store.clear();
      changed();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  return {
    session,
    async authenticateByUrl(href = globalThis.location?.href) {
      if (!href) return null;
      const address = new URL(href);
      const token = address.searchParams.get("token");
      if (address.searchParams.get("token_type") !== "impersonation" || !token) return null;
      address.searchParams.delete("token");
      address.searchParams.delete("token_type");
      if (globalThis.location && globalThis.history && href === globalThis.location.href) {
        globalThis.history.replaceState(globalThis.history.state, "", address.toString());
      }
      // The token is single-use: spend it only on a session that can then be kept.
      if (!store.usable()) throw storageUnavailable();
      const data = await transport.request(SdkAuthenticateImpersonationTokenDocument, { token });
      const result = data.authenticateImpersonationToken;
      const previous = store.read();
      try {
        store.write({ sessionToken: result.sessionToken, sessionJwt: result.sessionJwt, session: sessionFromServer(result.session), user: userFromServer(result.user) });
      } catch (error) {
        // The storage took the probe but not the session: end the session nobody can use.
        await transport.request(SdkRevokeSessionDocument, { sessionToken: result.sessionToken }).catch(() => undefined);
        throw error;
      }
      changed();
      // A second launch in this tab replaces the first impersonation: end it rather than leave it
      // running (out of the banner's reach, and counted against the impersonator's limit).
      if (previous && previous.sessionToken !== result.sessionToken) {
        await transport.request(SdkRevokeSessionDocument, { sessionToken: previous.sessionToken }).catch(() => undefined);
      }
      return view();
    },
  };
}
