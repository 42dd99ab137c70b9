import { Entity, Index, PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";
import { ImpersonationRequestStatus } from "./impersonation-request-status.js";

/**
 * A member's request to impersonate a user, decided by another ADMIN (four-eyes, SPEC §9). Every
 * change of `status` is one conditional UPDATE on the status it expects, so of racing decisions
 * (two approvals, approve and deny, a decision and a kill switch, two token creations) one wins.
 * `status` is what was last written; readers see `effectiveStatus` (expired once `expiresAt` passed).
 */
@ObjectType({ description: "A request to impersonate a user, for another ADMIN to approve or deny." })
@Entity({ tableName: "impersonation_requests" })
@Index({ properties: ["projectId", "createdAt"] })
@Index({ properties: ["requesterId", "status"] })
export class ImpersonationRequest {
  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("impreq");

  @Field(() => ID)
  @Property({ type: "string", length: 64 })
  projectId!: string;

  @Field(() => ID)
  @Property({ type: "string", length: 64 })
  userId!: string;

  @Field(() => ID)
  @Property({ type: "string", length: 64 })
  requesterId!: string;

  @Property({ type: "string", length: 320 })
  requesterEmail!: string;

  @Field(() => String)
  @Property({ type: "string", length: 500 })
  reason!: string;

  @Field(() => ImpersonationMode)
  @Property({ type: "string", length: 16 })
  mode!: ImpersonationMode;

  /** As read through the service: already `effectiveStatus`. */
  @Field(() => ImpersonationRequestStatus)
  @Property({ type: "string", length: 16 })
  status!: ImpersonationRequestStatus;

  @Field(() => ID, { nullable: true })
  @Property({ type: "string", length: 64, nullable: true })
  decidedById: string | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: Date, nullable: true })
  decidedAt: Date | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 500, nullable: true })
  denialReason: string | null = null;

  @Property({ type: Date, nullable: true })
  usedAt: Date | null = null;

  @Field(() => Date)
  @Property({ type: Date })
  createdAt!: Date;

  @Field(() => Date, { description: "createdAt + the policy's approvalTtlMinutes: the request must be decided and used before then." })
  @Property({ type: Date })
  expiresAt!: Date;
}
