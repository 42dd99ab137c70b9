import type { Sql } from "../../db/database.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";

/** An endpoint as the outbox needs it: where to queue, and for which event types. */
export interface SubscribedEndpoint {
  id: string;
  eventTypes: string[];
}

/** What an endpoint's owner may change. */
export type WebhookEndpointChanges = Partial<Pick<WebhookEndpoint, "url" | "eventTypes" | "enabled">>;

/** Every statement on `webhook_endpoints`. */
export const webhookEndpointRepository = {
  findById(sql: Sql, id: string): Promise<WebhookEndpoint | null> {
    return sql.entity(WebhookEndpoint, "select * from webhook_endpoints where id = ?", [id]);
  },

  /** A project's endpoints, oldest first. */
  listOfProject(sql: Sql, projectId: string): Promise<WebhookEndpoint[]> {
    return sql.entities(WebhookEndpoint, "select * from webhook_endpoints where project_id = ? order by created_at asc, id asc", [projectId]);
  },

  async countOfProject(sql: Sql, projectId: string): Promise<number> {
    const row = await sql.one<{ n: number | string }>("select count(*) as n from webhook_endpoints where project_id = ?", [projectId]);
    return Number(row?.n ?? 0);
  },

  /** A project's enabled endpoints, with the event types each receives (the outbox's read). */
  async subscribedOfProject(sql: Sql, projectId: string): Promise<SubscribedEndpoint[]> {
    const rows = await sql.all<{ id: string; event_types: unknown }>("select id, event_types from webhook_endpoints where project_id = ? and enabled = ?", [
      projectId,
      true,
    ]);
    return rows.map((row) => ({ id: row.id, eventTypes: parseEventTypes(row.event_types) }));
  },

  async insert(sql: Sql, endpoint: WebhookEndpoint): Promise<void> {
    await sql.insert(WebhookEndpoint, endpoint);
  },

  /** Changes the URL, event types or enabled flag; returns how many rows changed. */
  change(sql: Sql, id: string, changes: WebhookEndpointChanges): Promise<number> {
    const set: string[] = [];
    const params: Array<string | boolean> = [];
    if (changes.url !== undefined) {
      set.push("url = ?");
      params.push(changes.url);
    }
    if (changes.eventTypes !== undefined) {
      set.push("event_types = ?");
      params.push(JSON.stringify(changes.eventTypes));
    }
    if (changes.enabled !== undefined) {
      set.push("enabled = ?");
      params.push(changes.enabled);
    }
    if (set.length === 0) return Promise.resolve(0);
    return sql.run(`update webhook_endpoints set ${set.join(", ")} where id = ?`, [...params, id]);
  },

  /**
   * Replaces the signing secret, only if it is still `currentSecret`: of two concurrent rotations
   * exactly one changes the row. Returns how many rows changed.
   */
  replaceSecret(
    sql: Sql,
    id: string,
    currentSecret: string,
    next: { secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null },
  ): Promise<number> {
    return sql.run("update webhook_endpoints set secret = ?, previous_secret = ?, previous_secret_expires_at = ? where id = ? and secret = ?", [
      next.secret,
      next.previousSecret,
      next.previousSecretExpiresAt,
      id,
      currentSecret,
    ]);
  },

  async delete(sql: Sql, id: string): Promise<void> {
    await sql.run("delete from webhook_endpoints where id = ?", [id]);
  },
};

/** PostgreSQL's driver hands json columns back parsed; SQLite keeps the text. */
function parseEventTypes(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string") {
    try {
      const parsed = JSON.parse(value) as unknown;
      return Array.isArray(parsed) ? parsed.map(String) : [];
    } catch {
      return [];
    }
  }
  return [];
}
