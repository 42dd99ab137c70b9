import { Field, ID, InputType, ObjectType } from "type-graphql";
import { connectionTypes } from "../../graphql/connection.js";
import { allEventTypes } from "../audit/audit-status.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";

@InputType()
export class CreateWebhookEndpointInput {
  @Field(() => ID)
  projectId!: string;

  @Field(() => String, { description: "An absolute http(s) URL. In production, private and loopback addresses are refused." })
  url!: string;

  // Written from the list itself, so that it names every event type an endpoint may ask for.
  @Field(() => [String], { description: `A non-empty subset of: ${allEventTypes.join(", ")}.` })
  eventTypes!: string[];
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field(() => Boolean, { nullable: true, description: "false pauses deliveries to the endpoint; true resumes them." })
  enabled?: boolean | null;

  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [String], { nullable: true, description: `When given, replaces the endpoint's event types: a non-empty subset of: ${allEventTypes.join(", ")}.` })
  eventTypes?: string[] | null;
}

@ObjectType()
export class CreateWebhookEndpointPayload {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: "The signing secret (whsec_…), for verifying deliveries. Shown once." })
  secret!: string;
}

@ObjectType()
export class RotateWebhookEndpointSecretPayload {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, {
    description: "The new signing secret (whsec_…). Shown once. The previous one keeps signing until endpoint.previousSecretExpiresAt.",
  })
  secret!: string;
}

export const { EdgeType: WebhookDeliveryEdge, ConnectionType: WebhookDeliveryConnection } = connectionTypes(WebhookDelivery, "WebhookDelivery");
export type WebhookDeliveryConnection = InstanceType<typeof WebhookDeliveryConnection>;
