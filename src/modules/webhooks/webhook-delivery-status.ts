import { registerEnumType } from "type-graphql";

/** Where a delivery stands: waiting for (another) attempt, delivered, or given up on. */
export enum WebhookDeliveryStatus {
  PENDING = "PENDING",
  SUCCEEDED = "SUCCEEDED",
  FAILED = "FAILED",
}
registerEnumType(WebhookDeliveryStatus, {
  name: "WebhookDeliveryStatus",
  description: "PENDING: waiting for its next attempt; SUCCEEDED: a 2xx answer was received; FAILED: every attempt failed.",
});
