import type { EntityManager } from "@mikro-orm/core";
import type { DatabaseKind } from "../../db/orm.js";

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
 * Parameters, in order: now (live claims), now (due), now (unclaimed), perEndpoint, perProject, count.
 */
function fairPick(enabled: string): string {
  return `
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
    join webhook_endpoints e on e.id = d.endpoint_id and e.enabled = ${enabled}
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
}

/**
 * Claims deliveries (see `fairPick`) until `claimedUntil`, in one statement; returns their ids.
 * A claim is a conditional update: a delivery another instance claimed meanwhile is not taken (on
 * PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED` and re-checked; SQLite runs one writer
 * at a time). The per-endpoint and per-project counts may overshoot only when two instances claim
 * at the same moment, each before seeing the other's claims.
 */
export async function claimDueDeliveries(
  em: EntityManager,
  databaseKind: DatabaseKind,
  now: Date,
  claimedUntil: Date,
  limits: ClaimLimits,
): Promise<string[]> {
  if (limits.count <= 0) return [];
  const connection = em.getConnection();
  if (databaseKind === "postgresql") {
    const rows: Array<{ id: string }> = await connection.execute(
      `with ${fairPick("true")},
       locked as (
         select w.id from webhook_deliveries w
         where w.id in (select id from picked) and w.status = 'PENDING' and (w.claimed_until is null or w.claimed_until < ?)
         for update of w skip locked
       )
       update webhook_deliveries w set claimed_until = ? from locked where w.id = locked.id returning w.id`,
      [now, now, now, limits.perEndpoint, limits.perProject, limits.count, now, claimedUntil],
      "all",
    );
    return rows.map((row) => row.id);
  }
  // SQLite stores instants as epoch milliseconds.
  const at = now.getTime();
  const rows: Array<{ id: string }> = await connection.execute(
    `with ${fairPick("1")}
     update webhook_deliveries set claimed_until = ?
     where id in (select id from picked) and status = 'PENDING' and (claimed_until is null or claimed_until < ?)
     returning id`,
    [at, at, at, limits.perEndpoint, limits.perProject, limits.count, claimedUntil.getTime(), at],
    "all",
  );
  return rows.map((row) => row.id);
}
