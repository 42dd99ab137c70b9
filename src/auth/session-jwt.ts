import type { Clock } from "../clock.js";
import { decodeCompactJws, signCompactEs256, verifyEs256 } from "./jws-es256.js";
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

  sign(subject: SessionJwtSubject): string {
    const { kid, key } = this.keys.signingKey();
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const exp = Math.min(iat + sessionJwtLifetimeSeconds, Math.floor(subject.sessionExpiresAt.getTime() / 1000));
    return signCompactEs256(
      { alg: signingAlgorithm, kid, typ: "JWT" },
      {
        sid: subject.sessionId,
        act: { sub: subject.impersonatorId, email: subject.impersonatorEmail },
        iss: this.issuer,
        aud: subject.projectId,
        sub: subject.userId,
        iat,
        exp,
      },
      key,
    );
  }

  /**
   * Verifies signature, algorithm, `kid` and issuer, but not `exp`: an expired JWT of an active
   * session still identifies it (that is how clients refresh). Returns null for anything that does
   * not verify; the session's own state decides the rest.
   */
  async verifySignature(jwt: string): Promise<SessionJwtClaims | null> {
    const jws = decodeCompactJws(jwt);
    if (!jws || jws.header.alg !== signingAlgorithm || typeof jws.header.kid !== "string") return null;
    const key = await this.keys.verificationKey(jws.header.kid);
    if (!key || !verifyEs256(jws, key)) return null;
    const claims = jws.payload as Partial<SessionJwtClaims> | null;
    if (!claims || typeof claims !== "object" || claims.iss !== this.issuer || typeof claims.sid !== "string" || typeof claims.sub !== "string") return null;
    return claims as SessionJwtClaims;
  }
}
