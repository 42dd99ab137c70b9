import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { Clock } from "./clock.js";
import { MasqueradeError } from "./errors.js";
import type { JwksCache } from "./jwks-cache.js";
import { modeFromClaim, type MasqueradeSession } from "./session.js";

/** The one algorithm Masquerade signs session JWTs with (src/auth/session-jwt.ts); nothing else is accepted. */
export const sessionJwtAlgorithm = "ES256";

/** How far past its `exp` a JWT is still accepted, for clocks that disagree a little (seconds). */
export const defaultClockToleranceSeconds = 10;

/** How many verified JWTs are remembered by default: a client presents the same JWT until it refreshes it. */
export const defaultRememberedJwts = 10_000;

export interface SessionJwtVerifierOptions {
  keys: JwksCache;
  clock: Clock;
  /** The `iss` required, when the application set it; otherwise the one the JWKS announces. */
  issuer: string | undefined;
  /** The `iss` required when neither is there (a JWKS without `issuer`): the client's URL without `/graphql`. */
  fallbackIssuer: string;
  projectId: string;
  clockToleranceSeconds: number;
  /** At most this many verified JWTs are remembered (0: every JWT's signature is verified each time). */
  rememberedJwts: number;
}

/**
 * Verifies session JWTs locally: signature (ES256 only, key by `kid` from the JWKS), `iss`, `aud` =
 * the project, `exp` with a small tolerance, and the claims Masquerade puts in every session JWT.
 *
 * A JWT whose signature verified is remembered (by its exact bytes) until it expires, so the next
 * request that presents it costs a map lookup and the expiry check, not an ECDSA verification;
 * a remembered JWT whose key is no longer published stops verifying once the key set is refetched.
 */
export class SessionJwtVerifier {
  private readonly verified = new Map<string, { kid: string; exp: number; session: MasqueradeSession }>();

  constructor(private readonly options: SessionJwtVerifierOptions) {}

  async verify(jwt: string): Promise<MasqueradeSession> {
    if (typeof jwt !== "string" || jwt.length === 0) throw notFound("no session JWT was given");
    const remembered = this.verified.get(jwt);
    if (remembered) {
      if (this.options.keys.isStale()) await this.options.keys.keySetFor(remembered.kid);
      if (!this.options.keys.holds(remembered.kid)) {
        this.verified.delete(jwt);
        throw notFound("the session JWT's key is no longer published");
      }
      this.checkExpiry(remembered.exp);
      return { ...remembered.session, impersonator: { ...remembered.session.impersonator } };
    }
    return this.verifyAndRemember(jwt);
  }

  private async verifyAndRemember(jwt: string): Promise<MasqueradeSession> {
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(jwt);
      if (header.alg !== sessionJwtAlgorithm) throw notFound(`the session JWT is not signed with ${sessionJwtAlgorithm}`);
      kid = header.kid;
    } catch (error) {
      if (error instanceof MasqueradeError) throw error;
      throw notFound("the session JWT is malformed", error);
    }
    if (typeof kid !== "string") throw notFound("the session JWT names no key (kid)");
    const keySet = await this.options.keys.keySetFor(kid);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, keySet.getKey, {
        algorithms: [sessionJwtAlgorithm],
        // The explicit option wins; then the issuer announced by the very document the keys came
        // from (which is fetched from the same address as the keys, so it adds no trust of its own).
        issuer: this.options.issuer ?? keySet.issuer ?? this.options.fallbackIssuer,
        audience: this.options.projectId,
        clockTolerance: this.options.clockToleranceSeconds,
        currentDate: this.options.clock.now(),
        requiredClaims: ["exp", "sub"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new MasqueradeError("SESSION_EXPIRED", "The session JWT has expired: refresh it (session.refresh() in the browser, sessions.authenticate({ sessionJwt }) here)", { cause: error });
      }
      throw notFound("the session JWT does not verify", error);
    }
    const session = sessionOf(payload);
    if (this.options.rememberedJwts > 0) {
      if (this.verified.size >= this.options.rememberedJwts) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(jwt, { kid, exp: payload.exp!, session });
    }
    return { ...session, impersonator: { ...session.impersonator } };
  }

  private checkExpiry(exp: number): void {
    const nowSeconds = Math.floor(this.options.clock.now().getTime() / 1000);
    // jose's rule: expired once exp <= now - tolerance.
    if (exp <= nowSeconds - this.options.clockToleranceSeconds) {
      throw new MasqueradeError("SESSION_EXPIRED", "The session JWT has expired: refresh it (session.refresh() in the browser, sessions.authenticate({ sessionJwt }) here)");
    }
  }
}

/** The session a verified payload describes; a payload without Masquerade's claims does not verify. */
function sessionOf(payload: JWTPayload): MasqueradeSession {
  const act = payload.act as { sub?: unknown; email?: unknown } | undefined;
  const { sid, sub, aud } = payload as { sid?: unknown; sub?: unknown; aud?: unknown };
  if (typeof sid !== "string" || typeof sub !== "string" || typeof aud !== "string" || !act || typeof act.sub !== "string" || typeof act.email !== "string") {
    throw notFound("the session JWT lacks Masquerade's claims (sid, sub, aud, act)");
  }
  return {
    sessionId: sid,
    userId: sub,
    projectId: aud,
    impersonator: { id: act.sub, email: act.email },
    mode: modeFromClaim(payload.imp),
    expiresAt: new Date(sessionExpiryMs(payload)),
  };
}

/**
 * When the session ends: the `session_exp` claim (a NumericDate with the milliseconds as a
 * fraction); for a JWT signed before Masquerade added it, the JWT's own `exp`.
 */
function sessionExpiryMs(payload: JWTPayload): number {
  const sessionExp = (payload as { session_exp?: unknown }).session_exp;
  if (typeof sessionExp === "number" && Number.isFinite(sessionExp) && sessionExp > 0) return Math.round(sessionExp * 1000);
  return payload.exp! * 1000;
}

function notFound(message: string, cause?: unknown): MasqueradeError {
  return new MasqueradeError("SESSION_NOT_FOUND", `Session not found: ${message}`, { cause });
}
