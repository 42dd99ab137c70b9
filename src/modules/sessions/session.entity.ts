import { Entity, Index, PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";
import { AuthenticationFactor, AuthenticationFactorType } from "./authentication-factor.types.js";

/** An impersonation session: one hour, never extended, its only factor `impersonated`. */
@ObjectType()
@Entity({ tableName: "sessions" })
@Index({ properties: ["projectId", "startedAt"] })
export class Session {
  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("session");

  @Field(() => ID)
  @Property({ type: "string", length: 64 })
  projectId!: string;

  @Field(() => ID)
  @Property({ type: "string", length: 64, index: true })
  userId!: string;

  @Field(() => ID)
  @Property({ type: "string", length: 64, index: true })
  impersonatorId!: string;

  @Field(() => String)
  @Property({ type: "string", length: 320 })
  impersonatorEmail!: string;

  @Property({ type: "string", length: 64, unique: true })
  tokenHash!: string;

  @Field(() => ImpersonationMode, { description: "What the impersonator may do; also the session JWT's imp.mode." })
  /** Rows from before modes existed were READ_WRITE: how the hosted platforms behave. */
  @Property({ type: "string", length: 16, default: ImpersonationMode.READ_WRITE })
  mode!: ImpersonationMode;

  @Property({ type: "string", length: 64, unique: true })
  impersonationTokenId!: string;

  @Field(() => Date)
  @Property({ type: Date })
  startedAt!: Date;

  @Field(() => Date)
  @Property({ type: Date })
  lastAccessedAt!: Date;

  @Field(() => Date)
  @Property({ type: Date })
  expiresAt!: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: Date, nullable: true })
  revokedAt: Date | null = null;

  @Field(() => [AuthenticationFactor])
  get authenticationFactors(): AuthenticationFactor[] {
    return [
      {
        type: AuthenticationFactorType.IMPERSONATED,
        deliveryMethod: "impersonation",
        createdAt: this.startedAt,
        lastAuthenticatedAt: this.startedAt,
        impersonatedFactor: { impersonatorId: this.impersonatorId, impersonatorEmailAddress: this.impersonatorEmail },
      },
    ];
  }
}
