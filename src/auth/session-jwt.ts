import { compactVerify, decodeProtectedHeader, SignJWT } from "jose";
import type { Clock } from "../clock.js";
import { signingAlgorithm, type SigningKeyService } from "../modules/signing-keys/signing-key.service.js";

/** A JWT lives at most this long; clients refresh it through authenticateSession. */
export const sessionJwtLifetimeSeconds = 5 * 60;

export interface SessionJwtSubject {
  projectId: string;
  userId: string;
  sessionId: string;
  impersonatorId: string;
  impersonatorEmail: string;
  sessionExpiresAt: Date;
}

export interface SessionJwtClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  sid: string;
  iat: number;
  exp: number;
}

/** Signs and checks session JWTs: ES256, `kid` in the header, RFC 8693 `act` for the impersonator. */
export class SessionJwt {
  constructor(
    private readonly keys: SigningKeyService,
    private readonly clock: Clock,
    private readonly issuer: string,
  ) {}

  async sign(subject: SessionJwtSubject): Promise<string> {
    const { kid, key } = await this.keys.signingKey();
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const exp = Math.min(iat + sessionJwtLifetimeSeconds, Math.floor(subject.sessionExpiresAt.getTime() / 1000));
    return new SignJWT({ sid: subject.sessionId, act: { sub: subject.impersonatorId, email: subject.impersonatorEmail } })
      .setProtectedHeader({ alg: signingAlgorithm, kid, typ: "JWT" })
      .setIssuer(this.issuer)
      .setAudience(subject.projectId)
      .setSubject(subject.userId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key);
  }

  /**
   * Verifies signature, algorithm, `kid` and issuer, but not `exp`: an expired JWT of an active
   * session still identifies it (that is how clients refresh). Returns null for anything that does
   * not verify; the session's own state decides the rest.
   */
  async verifySignature(jwt: string): Promise<SessionJwtClaims | null> {
    try {
      const header = decodeProtectedHeader(jwt);
      if (header.alg !== signingAlgorithm || typeof header.kid !== "string") return null;
      const key = await this.keys.verificationKey(header.kid);
      if (!key) return null;
      const { payload } = await compactVerify(jwt, key, { algorithms: [signingAlgorithm] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Partial<SessionJwtClaims>;
      if (claims.iss !== this.issuer || typeof claims.sid !== "string" || typeof claims.sub !== "string") return null;
      return claims as SessionJwtClaims;
    } catch {
      return null;
    }
  }
}
