import { systemClock, type Clock } from "./clock.js";
import { MasqueradeError } from "./errors.js";
import { SdkAuthenticateImpersonationTokenDocument, SdkAuthenticateSessionDocument, SdkRevokeSessionDocument } from "./generated/sdk-documents.js";
import { GraphQLTransport, serverUrl } from "./graphql-transport.js";
import { JwksCache } from "./jwks-cache.js";
import { sessionFromServer, userFromServer } from "./server-session.js";
import type { MasqueradeSession, MasqueradeUser } from "./session.js";
import { defaultClockToleranceSeconds, defaultRememberedJwts, SessionJwtVerifier } from "./session-jwt-verifier.js";

export interface MasqueradeClientOptions {
  /** Masquerade's URL, with or without `/graphql` (e.g. `https://masquerade.example.com`). */
  url: string;
  projectId: string;
  /** The project's backend secret. Keep it on the server: never ship it to a browser. */
  projectSecret: string;
  /**
   * The `iss` session JWTs must carry: Masquerade's PUBLIC_URL. By default, the issuer the server
   * announces in its JWKS (`/.well-known/jwks.json`, member `issuer`), so a backend may reach
   * Masquerade at another address than its PUBLIC_URL (say http://127.0.0.1:4000 for
   * http://localhost:4000); for a server that announces none, `url` without `/graphql`.
   */
  issuer?: string;
  /** Seconds past a JWT's `exp` it is still accepted, for clock skew: default 10, at most 60. */
  clockToleranceSeconds?: number;
  /** How long the JWKS is kept before it is fetched again (default 5 minutes, as the server allows). */
  jwksMaxAgeMs?: number;
  /** The least time between two JWKS fetches caused by an unknown `kid` (default 30 s; the server publishes a new key 70 s before it signs with it). */
  jwksCooldownMs?: number;
  /**
   * How many verified JWTs are remembered, so that the next check of the same JWT is a lookup and
   * the expiry check rather than an ECDSA verification (default 10,000; 0 verifies every time).
   */
  rememberVerifiedJwts?: number;
  /** Milliseconds before a request to Masquerade is abandoned with NETWORK_ERROR (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Where the time comes from (JWT expiry, key-set age); tests pass a fake. */
  clock?: Clock;
}

/** What exchanging a token or authenticating a session returns. */
export interface AuthenticatedSession {
  session: MasqueradeSession;
  user: MasqueradeUser;
  /** A fresh JWT (5 minutes) for the session; hand it to the browser or keep it for the next check. */
  sessionJwt: string;
}

export interface ExchangedImpersonation extends AuthenticatedSession {
  /** The session's long-lived secret (until the session ends). Store it like a password. */
  sessionToken: string;
  requestId: string;
  /** The impersonated user's id (the payload's `userId`, SPEC §4.3; also `user.id` and `session.userId`). */
  userId: string;
}

export type SessionReference = { sessionId: string } | { sessionToken: string } | { sessionJwt: string };

/**
 * Masquerade for an application's backend (SPEC §11): exchanges impersonation tokens, checks and
 * revokes sessions through the server, and verifies session JWTs locally.
 */
export class MasqueradeClient {
  readonly impersonation: { authenticate(token: string): Promise<ExchangedImpersonation> };
  readonly sessions: {
    /** Asks the server: the session's current state (a revoked one is refused at once), with a fresh JWT. */
    authenticate(reference: { sessionToken: string } | { sessionJwt: string }): Promise<AuthenticatedSession>;
    /** Revokes a session of the project. Revoking a revoked session succeeds and changes nothing. */
    revoke(reference: SessionReference): Promise<{ requestId: string; session: MasqueradeSession & { revokedAt: Date | null } }>;
    /**
     * Verifies a session JWT locally, with no request to the server on the hot path. A revoked
     * session's JWT keeps verifying until it expires (at most 5 minutes); see README.
     */
    authenticateJwt(sessionJwt: string): Promise<MasqueradeSession>;
  };
  /** The JWKS this client verifies against (exposed for tests and diagnostics). */
  readonly jwks: JwksCache;
  private readonly transport: GraphQLTransport;

  constructor(options: MasqueradeClientOptions) {
    for (const name of ["url", "projectId", "projectSecret"] as const) {
      if (typeof options?.[name] !== "string" || options[name].length === 0) throw new MasqueradeError("BAD_USER_INPUT", `MasqueradeClient needs ${name}`);
    }
    const tolerance = options.clockToleranceSeconds ?? defaultClockToleranceSeconds;
    if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 60) throw new MasqueradeError("BAD_USER_INPUT", "clockToleranceSeconds must be from 0 to 60");
    const clock = options.clock ?? systemClock;
    const fetchImpl = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
    const basic = btoa(`${options.projectId}:${options.projectSecret}`);
    this.transport = new GraphQLTransport({ url: options.url, headers: { authorization: `Basic ${basic}` }, fetch: fetchImpl, timeoutMs: options.timeoutMs });
    this.jwks = new JwksCache({
      url: serverUrl(this.transport.url, "/.well-known/jwks.json"),
      clock,
      fetch: fetchImpl,
      maxAgeMs: options.jwksMaxAgeMs ?? 5 * 60_000,
      cooldownMs: options.jwksCooldownMs ?? 30_000,
      timeoutMs: options.timeoutMs ?? 10_000,
    });
    const verifier = new SessionJwtVerifier({
      keys: this.jwks,
      clock,
      issuer: options.issuer,
      fallbackIssuer: serverUrl(this.transport.url, "").replace(/\/$/, ""),
      projectId: options.projectId,
      clockToleranceSeconds: tolerance,
      rememberedJwts: Math.max(0, Math.floor(options.rememberVerifiedJwts ?? defaultRememberedJwts)),
    });
    const transport = this.transport;

    this.impersonation = {
      async authenticate(token) {
        const data = await transport.request(SdkAuthenticateImpersonationTokenDocument, { token });
        const result = data.authenticateImpersonationToken;
        return {
          requestId: result.requestId,
          userId: result.userId,
          sessionToken: result.sessionToken,
          sessionJwt: result.sessionJwt,
          session: sessionFromServer(result.session),
          user: userFromServer(result.user),
        };
      },
    };
    this.sessions = {
      async authenticate(reference) {
        const data = await transport.request(SdkAuthenticateSessionDocument, oneOf(reference, ["sessionToken", "sessionJwt"]));
        const result = data.authenticateSession;
        return { sessionJwt: result.sessionJwt, session: sessionFromServer(result.session), user: userFromServer(result.user) };
      },
      async revoke(reference) {
        const data = await transport.request(SdkRevokeSessionDocument, oneOf(reference, ["sessionId", "sessionToken", "sessionJwt"]));
        const { requestId, session } = data.revokeSession;
        return { requestId, session: { ...sessionFromServer(session), revokedAt: session.revokedAt ? new Date(session.revokedAt) : null } };
      },
      authenticateJwt: (sessionJwt) => verifier.verify(sessionJwt),
    };
  }
}

/** The one reference the caller gave, as variables; anything else is BAD_USER_INPUT before any request. */
export function oneOf<K extends string>(reference: unknown, keys: readonly K[]): Partial<Record<K, string>> {
  const given = keys.filter((key) => reference && typeof reference === "object" && (reference as Record<string, unknown>)[key] !== undefined);
  if (given.length !== 1 || typeof (reference as Record<string, unknown>)[given[0]!] !== "string") {
    throw new MasqueradeError("BAD_USER_INPUT", `Give exactly one of ${keys.join(", ")}, as a string`);
  }
  return { [given[0]!]: (reference as Record<string, string>)[given[0]!] } as Partial<Record<K, string>>;
}
