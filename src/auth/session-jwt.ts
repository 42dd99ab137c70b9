import type { Clock } from "../clock.js";
import { jwtModeClaim, type JwtModeClaim } from "../modules/policy/impersonation-mode.js";
import type { Session } from "../modules/sessions/session.entity.js";
import { decodeCompactJws, signCompactEs256, verifyEs256 } from "./jws-es256.js";
import { signingAlgorithm, type SigningKeyService } from "../modules/signing-keys/signing-key.service.js";

/** A JWT lives at most this long; clients refresh it through authenticateSession. */
export const sessionJwtLifetimeSeconds = 5 * 60;

/** What a session JWT says about its session. */
export type SessionJwtSubject = Pick<Session, "id" | "projectId" | "userId" | "impersonatorId" | "impersonatorEmail" | "mode" | "expiresAt">;

export interface SessionJwtClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  /** What the impersonation may do (SPEC §9): the application refuses writes when read_only. */
  imp?: { mode: JwtModeClaim };
  /**
   * When the session itself ends, where `exp` is only the JWT's own end: a NumericDate with the
   * session's milliseconds as a fraction (RFC 7519 §2 allows non-integer values), so that it names
   * exactly the `Session.expiresAt` the API returns. A claim of its own, so that the contract's
   * `imp` stays exactly `{ mode }`; absent from JWTs signed before it existed.
   */
  session_exp?: number;
}

/** How many verified JWTs are remembered (a client presents the same JWT until it refreshes it). */
const verifiedJwtCacheSize = 2048;

/** Signs and checks session JWTs: ES256, `kid` in the header, RFC 8693 `act` for the impersonator. */
export class SessionJwt {
  /**
   * JWTs signed during the current second (`iat`), by everything they claim. A second request for
   * the same session within that second gets the same JWT: its claims are identical, so a second
   * ECDSA signature would only cost time. Emptied when the second changes.
   */
  private signedThisSecond = { iat: -1, jwts: new Map<string, string>() };
  /** JWTs whose signature verified, with their claims; a pure function of the JWT's bytes and its immutable key. */
  private readonly verified = new Map<string, { kid: string; claims: SessionJwtClaims }>();

  constructor(
    private readonly keys: SigningKeyService,
    private readonly clock: Clock,
    /** PUBLIC_URL, read when needed: with PORT=0 it is known only once the server listens. */
    private readonly issuer: () => string,
  ) {}

  /**
   * The JWT of `session`, the one place one is signed (token exchange and authenticateSession): it
   * expires with the session at the latest.
   */
  signFor(session: SessionJwtSubject): string {
    const { kid, key } = this.keys.signingKey();
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const sessionExp = session.expiresAt.getTime() / 1000;
    const exp = Math.min(iat + sessionJwtLifetimeSeconds, Math.floor(sessionExp));
    if (this.signedThisSecond.iat !== iat) this.signedThisSecond = { iat, jwts: new Map() };
    const claimsKey = [kid, exp, sessionExp, session.id, session.projectId, session.userId, session.impersonatorId, session.impersonatorEmail, session.mode].join("\n");
    const signed = this.signedThisSecond.jwts.get(claimsKey);
    if (signed) return signed;
    const jwt = signCompactEs256(
      { alg: signingAlgorithm, kid, typ: "JWT" },
      {
        sid: session.id,
        act: { sub: session.impersonatorId, email: session.impersonatorEmail },
        imp: { mode: jwtModeClaim(session.mode) },
        session_exp: sessionExp,
        iss: this.issuer(),
        aud: session.projectId,
        sub: session.userId,
        iat,
        exp,
      },
      key,
    );
    this.signedThisSecond.jwts.set(claimsKey, jwt);
    return jwt;
  }

  /**
   * Verifies signature, algorithm, `kid` and issuer, but not `exp`: an expired JWT of an active
   * session still identifies it (that is how clients refresh). Returns null for anything that does
   * not verify; the session's own state decides the rest.
   */
  async verifySignature(jwt: string): Promise<SessionJwtClaims | null> {
    const known = this.verified.get(jwt);
    // Remembered or not, the key must still be published: a retired key past its grace verifies nothing.
    if (known) return (await this.keys.verificationKey(known.kid)) ? known.claims : null;
    const jws = decodeCompactJws(jwt);
    if (!jws || jws.header.alg !== signingAlgorithm || typeof jws.header.kid !== "string") return null;
    const key = await this.keys.verificationKey(jws.header.kid);
    if (!key || !verifyEs256(jws, key)) return null;
    const claims = jws.payload as Partial<SessionJwtClaims> | null;
    if (!claims || typeof claims !== "object" || claims.iss !== this.issuer() || typeof claims.sid !== "string" || typeof claims.sub !== "string") return null;
    if (this.verified.size >= verifiedJwtCacheSize) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(jwt, { kid: jws.header.kid, claims: Object.freeze(claims as SessionJwtClaims) });
    return claims as SessionJwtClaims;
  }
}
