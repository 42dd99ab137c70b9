import type { Sql, SqlValue } from "../../db/database.js";
import { updatePickedRows } from "../../db/dialect.js";
import { keyset } from "../../db/keyset.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";

/** How many deliveries may be in flight at once, counted from live claims across every instance. */
export interface ClaimLimits {
  /** Deliveries to claim at most now (the free slots of this instance's pool). */
  count: number;
  perEndpoint: number;
  perProject: number;
}

/**
 * The due, unclaimed deliveries of enabled endpoints to send next, fairly: each endpoint gets slots
 * up to `perEndpoint` and each project up to `perProject`, both counting the claims already live
 * (on any instance), and the picks go round-robin (every endpoint's first slot before any
 * endpoint's second; likewise across projects), oldest due first within an endpoint. A backlog on
 * one endpoint therefore never holds more than `perEndpoint` sends, and never goes ahead of another
 * endpoint's first delivery.
 *
 * Parameters, in order: now (live claims), enabled (true), now (due), now (unclaimed), perEndpoint,
 * perProject, count.
 */
const fairPick = `
  live_claims as (
    select endpoint_id, project_id, count(*) as claims from webhook_deliveries
    where status = 'PENDING' and claimed_until >= ?
    group by endpoint_id, project_id
  ),
  project_claims as (
    select project_id, sum(claims) as claims from live_claims group by project_id
  ),
  due as (
    select d.id, d.project_id, d.next_attempt_at,
      row_number() over (partition by d.endpoint_id order by d.next_attempt_at, d.id) + coalesce(c.claims, 0) as endpoint_slot
    from webhook_deliveries d
    join webhook_endpoints e on e.id = d.endpoint_id and e.enabled = ?
    left join live_claims c on c.endpoint_id = d.endpoint_id
    where d.status = 'PENDING' and d.next_attempt_at <= ? and (d.claimed_until is null or d.claimed_until < ?)
  ),
  within_endpoint_limit as (
    select due.id, due.next_attempt_at, due.endpoint_slot,
      row_number() over (partition by due.project_id order by due.endpoint_slot, due.next_attempt_at, due.id) + coalesce(p.claims, 0) as project_slot
    from due
    left join project_claims p on p.project_id = due.project_id
    where due.endpoint_slot <= ?
  ),
  picked as (
    select id from within_endpoint_limit
    where project_slot <= ?
    order by project_slot, endpoint_slot, next_attempt_at, id
    limit ?
  )`;

/** Every statement on `webhook_deliveries`. */
export const webhookDeliveryRepository = {
  findById(sql: Sql, id: string): Promise<WebhookDelivery | null> {
    return sql.entity(WebhookDelivery, "select * from webhook_deliveries where id = ?", [id]);
  },

  /** Deliveries by id, the earliest due first. */
  byIds(sql: Sql, ids: readonly string[]): Promise<WebhookDelivery[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return sql.entities(WebhookDelivery, `select * from webhook_deliveries where id in (${ids.map(() => "?").join(", ")}) order by next_attempt_at asc`, ids);
  },

  /** How many deliveries are PENDING (queued or waiting for a retry), on every instance. */
  async countPending(sql: Sql): Promise<number> {
    const row = await sql.one<{ n: number | string }>("select count(*) as n from webhook_deliveries where status = ?", [WebhookDeliveryStatus.PENDING]);
    return Number(row?.n ?? 0);
  },

  /** Queues a delivery (the outbox, in its event's transaction). */
  async queue(sql: Sql, delivery: WebhookDelivery): Promise<void> {
    await sql.insert(WebhookDelivery, delivery);
  },

  /** A page of a project's deliveries, newest first, strictly after the cursor `after` ([createdAt, id]). */
  page(
    sql: Sql,
    filter: { projectId: string; endpointId: string | null; status: WebhookDeliveryStatus | null },
    after: readonly [Date, string] | null,
    limit: number,
  ): Promise<WebhookDelivery[]> {
    const where = ["project_id = ?"];
    const params: SqlValue[] = [filter.projectId];
    if (filter.endpointId) {
      where.push("endpoint_id = ?");
      params.push(filter.endpointId);
    }
    if (filter.status) {
      where.push("status = ?");
      params.push(filter.status);
    }
    const page = keyset({ columns: ["created_at", "id"], direction: "desc" }, after);
    return sql.entities(WebhookDelivery, `select * from webhook_deliveries where ${where.join(" and ")} and ${page.where} ${page.orderBy} limit ?`, [
      ...params,
      ...page.params,
      limit,
    ]);
  },

  /**
   * Claims due deliveries (see `fairPick`) until `claimedUntil`, in one statement; returns their ids.
   * A claim is a conditional update: a delivery another instance claimed meanwhile is not taken (see
   * `updatePickedRows`). The per-endpoint and per-project counts may overshoot only when two
   * instances claim at the same moment, each before seeing the other's claims.
   */
  claimDue(sql: Sql, now: Date, claimedUntil: Date, limits: ClaimLimits): Promise<string[]> {
    if (limits.count <= 0) return Promise.resolve([]);
    return updatePickedRows(sql, {
      ctes: fairPick,
      cteParams: [now, true, now, now, limits.perEndpoint, limits.perProject, limits.count],
      table: "webhook_deliveries",
      picked: "select id from picked",
      stillMatches: "status = 'PENDING' and (claimed_until is null or claimed_until < ?)",
      stillMatchesParams: [now],
      set: "claimed_until = ?",
      setParams: [claimedUntil],
    });
  },

  /** Gives a claim back unused (shutdown), if it is still ours. */
  async releaseClaim(sql: Sql, id: string, claim: Date): Promise<void> {
    await sql.run("update webhook_deliveries set claimed_until = null where id = ? and claimed_until = ?", [id, claim]);
  },

  /**
   * Ends a delivery SUCCEEDED or FAILED after an attempt, releasing the claim, if the claim still
   * holds; returns how many rows changed (0: deleted, or the claim lapsed and another worker took over).
   */
  complete(
    sql: Sql,
    id: string,
    claim: Date,
    outcome: { status: WebhookDeliveryStatus; completedAt: Date; lastError: string | null; attemptCount: number },
  ): Promise<number> {
    return sql.run(
      "update webhook_deliveries set status = ?, completed_at = ?, next_attempt_at = null, last_error = ?, attempt_count = ?, claimed_until = null where id = ? and claimed_until = ?",
      [outcome.status, outcome.completedAt, outcome.lastError, outcome.attemptCount, id, claim],
    );
  },

  /** Schedules the next attempt after a failed one, releasing the claim, if it still holds; returns how many rows changed. */
  scheduleRetry(sql: Sql, id: string, claim: Date, retry: { nextAttemptAt: Date; lastError: string | null; attemptCount: number }): Promise<number> {
    return sql.run("update webhook_deliveries set next_attempt_at = ?, last_error = ?, attempt_count = ?, claimed_until = null where id = ? and claimed_until = ?", [
      retry.nextAttemptAt,
      retry.lastError,
      retry.attemptCount,
      id,
      claim,
    ]);
  },

  /** Puts a FAILED delivery back in the queue, due `now`; returns how many rows changed (0: no longer FAILED). */
  requeueFailed(sql: Sql, id: string, now: Date): Promise<number> {
    return sql.run("update webhook_deliveries set status = ?, next_attempt_at = ?, completed_at = null, claimed_until = null where id = ? and status = ?", [
      WebhookDeliveryStatus.PENDING,
      now,
      id,
      WebhookDeliveryStatus.FAILED,
    ]);
  },

  async delete(sql: Sql, id: string): Promise<void> {
    await sql.run("delete from webhook_deliveries where id = ?", [id]);
  },

  async deleteOfEndpoint(sql: Sql, endpointId: string): Promise<void> {
    await sql.run("delete from webhook_deliveries where endpoint_id = ?", [endpointId]);
  },
};
