import { Entity, Index, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { Field, ID, Int, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";

/** One audit event to one endpoint: an outbox row written in the event's own transaction. */
@ObjectType()
@Entity({ tableName: "webhook_deliveries" })
@Unique({ properties: ["endpointId", "auditEventId"] })
@Index({ properties: ["status", "nextAttemptAt"] })
export class WebhookDelivery {
  /** Also the `webhook-id` header: stable across retries. */
  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("msg");

  @Field(() => ID)
  @Property({ type: "string", length: 64, index: true })
  endpointId!: string;

  @Field(() => ID)
  @Property({ type: "string", length: 64 })
  projectId!: string;

  @Field(() => ID)
  @Property({ type: "string", length: 64 })
  auditEventId!: string;

  @Field(() => String)
  @Property({ type: "string", length: 64 })
  eventType!: string;

  /** The exact JSON body that is signed and sent. */
  @Property({ type: "text" })
  payload!: string;

  /** PENDING, SUCCEEDED or FAILED. */
  @Field(() => String)
  @Property({ type: "string", length: 16 })
  status: string = "PENDING";

  @Field(() => Int)
  @Property({ type: "integer" })
  attemptCount: number = 0;

  @Field(() => Date, { nullable: true })
  @Property({ type: "datetime", nullable: true })
  nextAttemptAt: Date | null = null;

  /** A worker's claim: nobody else sends this delivery before it passes. */
  @Property({ type: "datetime", nullable: true })
  claimedUntil: Date | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: "text", nullable: true })
  lastError: string | null = null;

  @Field(() => Date)
  @Property({ type: "datetime" })
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: "datetime", nullable: true })
  completedAt: Date | null = null;
}
