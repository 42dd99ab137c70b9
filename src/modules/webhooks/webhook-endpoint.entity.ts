import { Entity, PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";

@ObjectType()
@Entity({ tableName: "webhook_endpoints" })
export class WebhookEndpoint {
  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("endpoint");

  @Field(() => ID)
  @Property({ type: "string", length: 64, index: true })
  projectId!: string;

  @Field(() => String)
  @Property({ type: "string", length: 2048 })
  url!: string;

  @Field(() => [String], { description: "The event types this endpoint receives." })
  @Property({ type: "json" })
  eventTypes!: string[];

  @Field(() => Boolean, {
    description: "A disabled endpoint is sent nothing and queues no new events; deliveries already pending wait until it is enabled again.",
  })
  @Property({ type: "boolean" })
  enabled: boolean = true;

  /** Signing secret (whsec_...). Kept in clear: it must sign every delivery. */
  @Property({ type: "string", length: 128 })
  secret!: string;

  /** The secret before the last rotation; still signs until previousSecretExpiresAt. */
  @Property({ type: "string", length: 128, nullable: true })
  previousSecret: string | null = null;

  @Field(() => Date, {
    nullable: true,
    description: "After a rotation, until when the previous secret still signs deliveries (alongside the new one).",
  })
  @Property({ type: Date, nullable: true })
  previousSecretExpiresAt: Date | null = null;

  @Field(() => Date)
  @Property({ type: Date })
  createdAt!: Date;
}
