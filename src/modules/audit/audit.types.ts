import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { connectionTypes } from "../../graphql/connection.js";
import { AuditEvent } from "./audit-event.entity.js";
import { AuditAction, AuditStatus } from "./audit-status.js";

@InputType({ description: "Narrows the audit log. Every given field must match; an absent or empty field does not narrow." })
export class AuditEventFilter {
  @Field(() => [String], {
    nullable: true,
    // Written from the list itself, so that it names every action there is.
    description: `Actions to include: ${Object.values(AuditAction).join(", ")}.`,
  })
  actions?: string[] | null;

  @Field(() => AuditStatus, { nullable: true })
  status?: AuditStatus | null;

  @Field(() => ID, { nullable: true, description: "The impersonated user." })
  userId?: string | null;

  @Field(() => ID, { nullable: true, description: "The team member who impersonated (or tried to)." })
  impersonatorId?: string | null;

  @Field(() => Date, { nullable: true, description: "Events created at or after this instant." })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: "Events created at or before this instant." })
  until?: Date | null;
}

@ObjectType({ description: "The result of re-computing a project's audit hash chain." })
export class AuditLogVerification {
  @Field(() => Boolean, { description: "True when every event chains to the one before it and no event is missing or out of order." })
  valid!: boolean;

  @Field(() => Int, { description: "Events checked: all of them when valid, else up to and including the first invalid one." })
  checkedCount!: number;

  @Field(() => ID, { nullable: true, description: "The first event (in sequence order) whose place in the chain does not verify." })
  firstInvalidEventId!: string | null;
}

export const { EdgeType: AuditEventEdge, ConnectionType: AuditEventConnection } = connectionTypes(AuditEvent, "AuditEvent");
export type AuditEventConnection = InstanceType<typeof AuditEventConnection>;
