import { Entity, PrimaryKey, Property } from "@mikro-orm/core";

/**
 * An asymmetric key that signs session JWTs. The newest unretired key signs; retired keys stay in
 * the JWKS long enough for every JWT they signed to be verified (sessions last an hour, and an
 * expired-but-valid JWT still identifies an active session).
 */
@Entity({ tableName: "signing_keys" })
export class SigningKey {
  @PrimaryKey({ type: "string", length: 64 })
  kid!: string;

  @Property({ type: "string", length: 16 })
  alg!: string;

  @Property({ type: "text" })
  publicJwk!: string;

  @Property({ type: "text" })
  privateJwk!: string;

  @Property({ type: Date })
  createdAt!: Date;

  @Property({ type: Date, nullable: true })
  retiredAt: Date | null = null;
}
