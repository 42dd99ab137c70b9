import { Entity, PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, Int, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";

@ObjectType()
@Entity({ tableName: "webhook_attempts" })
export class WebhookAttempt {
  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("attempt");

  @Field(() => ID)
  @Property({ type: "string", length: 64, index: true })
  deliveryId!: string;

  @Field(() => Int)
  @Property({ type: "integer" })
  attemptNumber!: number;

  @Field(() => Date)
  @Property({ type: Date })
  startedAt!: Date;

  @Field(() => Int)
  @Property({ type: "integer" })
  durationMs!: number;

  @Field(() => Int, { nullable: true })
  @Property({ type: "integer", nullable: true })
  statusCode: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: "text", nullable: true })
  error: string | null = null;

  @Field(() => Boolean)
  @Property({ type: "boolean" })
  success!: boolean;
}
