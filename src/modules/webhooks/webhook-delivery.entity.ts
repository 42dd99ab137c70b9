import { Entity, Index, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { Field, ID, Int, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";
import { WebhookAttempt } from "./webhook-attempt.entity.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";

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

  @Field(() => WebhookDeliveryStatus)
  @Property({ type: "string", length: 16 })
  status: WebhookDeliveryStatus = WebhookDeliveryStatus.PENDING;

  @Field(() => Int, { description: "Attempts made so far." })
  @Property({ type: "integer" })
  attemptCount: number = 0;

  @Field(() => Date, { nullable: true, description: "When the next attempt is due (PENDING only)." })
  @Property({ type: Date, nullable: true })
  nextAttemptAt: Date | null = null;

  /** A worker's claim: nobody else sends this delivery before it passes. */
  @Property({ type: Date, nullable: true })
  claimedUntil: Date | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: "text", nullable: true })
  lastError: string | null = null;

  @Field(() => Date)
  @Property({ type: Date })
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: Date, nullable: true })
  completedAt: Date | null = null;

  /** Loaded by the service for the page it returns (one query per page); not a column. */
  @Field(() => [WebhookAttempt], { description: "Every attempt so far, oldest first." })
  attempts?: WebhookAttempt[];
}
