import { Entity, Index, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { Field, ID, Int, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";
import { AuditStatus } from "./audit-status.js";

/**
 * One audited call. Append-only: nothing in the API updates or deletes it. `seq`, `prevHash` and
 * `hash` chain the events of one project so that edits, deletions and reordering are detectable.
 * `projectId` is "" when the call named no project that exists (e.g. a member revoking an unknown
 * session).
 */
@ObjectType()
@Entity({ tableName: "audit_events" })
@Unique({ properties: ["projectId", "seq"] })
@Index({ properties: ["projectId", "createdAt"] })
export class AuditEvent {
  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("event");

  @Field(() => ID)
  @Property({ type: "string", length: 64 })
  projectId!: string;

  @Field(() => Int, { description: "The event's place in its project's log: 1, 2, 3… in commit order. auditEventAdded(afterSeq:) resumes after it." })
  @Property({ type: "integer" })
  seq!: number;

  @Field(() => String)
  @Property({ type: "string", length: 64 })
  action!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 64, nullable: true })
  eventType: string | null = null;

  @Field(() => AuditStatus)
  @Property({ type: "string", length: 16 })
  status!: AuditStatus;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 64, nullable: true })
  errorCode: string | null = null;

  @Field(() => String)
  @Property({ type: "string", length: 64 })
  requestId!: string;

  @Field(() => ID, { nullable: true })
  @Property({ type: "string", length: 64, nullable: true })
  userId: string | null = null;

  @Field(() => ID, { nullable: true })
  @Property({ type: "string", length: 64, nullable: true })
  impersonatorId: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 320, nullable: true })
  impersonatorEmail: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 500, nullable: true })
  reason: string | null = null;

  @Field(() => ID, { nullable: true })
  @Property({ type: "string", length: 64, nullable: true })
  sessionId: string | null = null;

  @Field(() => ImpersonationMode, { nullable: true, description: "The impersonation's mode, on the events of tokens, sessions and requests." })
  @Property({ type: "string", length: 16, nullable: true })
  mode: ImpersonationMode | null = null;

  @Field(() => ID, { nullable: true, description: "The approved (or decided) impersonation request behind this event." })
  @Property({ type: "string", length: 64, nullable: true })
  impersonationRequestId: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 64, nullable: true })
  ipAddress: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 512, nullable: true })
  userAgent: string | null = null;

  /** Who called: "member", "backend", "frontend", or "cli" (`npm run admin`). */
  @Field(() => String, { nullable: true, description: "Who made the call: member, backend, frontend, or cli (npm run admin)." })
  @Property({ type: "string", length: 16 })
  actorType!: string;

  @Field(() => ID, { nullable: true, description: "The calling member's id, or the calling project's id." })
  @Property({ type: "string", length: 64, nullable: true })
  actorId: string | null = null;

  /** Action-specific details as canonical JSON, e.g. a policy's old and new values. */
  @Field(() => String, { nullable: true, description: "Action-specific details as JSON, e.g. a policy's old and new values." })
  @Property({ type: "text", nullable: true })
  details: string | null = null;

  @Field(() => Date)
  @Property({ type: Date })
  createdAt!: Date;

  @Property({ type: "string", length: 64 })
  prevHash!: string;

  @Property({ type: "string", length: 64 })
  hash!: string;
}
