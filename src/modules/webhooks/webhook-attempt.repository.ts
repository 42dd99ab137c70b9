import type { Sql } from "../../db/database.js";
import { WebhookAttempt } from "./webhook-attempt.entity.js";

/** Every statement on `webhook_attempts`. */
export const webhookAttemptRepository = {
  async record(sql: Sql, attempt: WebhookAttempt): Promise<void> {
    await sql.insert(WebhookAttempt, attempt);
  },

  /** The attempts of the given deliveries, oldest first, in one statement. */
  ofDeliveries(sql: Sql, deliveryIds: readonly string[]): Promise<WebhookAttempt[]> {
    if (deliveryIds.length === 0) return Promise.resolve([]);
    return sql.entities(
      WebhookAttempt,
      `select * from webhook_attempts where delivery_id in (${deliveryIds.map(() => "?").join(", ")}) order by attempt_number asc, id asc`,
      deliveryIds,
    );
  },

  /** Deletes every attempt of an endpoint's deliveries (before the deliveries themselves go). */
  async deleteOfEndpoint(sql: Sql, endpointId: string): Promise<void> {
    await sql.run("delete from webhook_attempts where delivery_id in (select id from webhook_deliveries where endpoint_id = ?)", [endpointId]);
  },
};
