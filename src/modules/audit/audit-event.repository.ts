import type { Sql, SqlValue } from "../../db/database.js";
import { keyset } from "../../db/keyset.js";
import { AuditEvent } from "./audit-event.entity.js";
import type { AuditStatus } from "./audit-status.js";

/** What a page of the audit log is narrowed by; null fields do not narrow. */
export interface AuditEventConditions {
  actions: ReadonlySet<string> | null;
  status: AuditStatus | null;
  userId: string | null;
  impersonatorId: string | null;
  since: Date | null;
  until: Date | null;
}

/** Every statement on `audit_events`. The log is append-only: nothing here updates or deletes. */
export const auditEventRepository = {
  /** Writes one event (its chain fields already computed, under the chain's lock). */
  async append(sql: Sql, event: AuditEvent): Promise<void> {
    await sql.insert(AuditEvent, event);
  },

  /** The newest event's `seq` and hash in a project's chain; null when the chain is empty. */
  async lastOfChain(sql: Sql, projectId: string): Promise<{ seq: number; hash: string } | null> {
    const last = await sql.one<{ seq: number | string; hash: string }>(
      "select seq, hash from audit_events where project_id = ? order by seq desc limit 1",
      [projectId],
    );
    return last ? { seq: Number(last.seq), hash: last.hash } : null;
  },

  /** The highest `seq` committed in a project's chain (0 when it has none). */
  async lastSeq(sql: Sql, projectId: string): Promise<number> {
    const row = await sql.one<{ seq: number | string | null }>("select max(seq) as seq from audit_events where project_id = ?", [projectId]);
    return Number(row?.seq ?? 0);
  },

  /** A project's events with `fromSeq <= seq <= toSeq` (no upper bound when null), in `seq` order, at most `limit`. */
  range(sql: Sql, projectId: string, fromSeq: number, toSeq: number | null, limit: number): Promise<AuditEvent[]> {
    return toSeq === null
      ? sql.entities(AuditEvent, "select * from audit_events where project_id = ? and seq >= ? order by seq limit ?", [projectId, fromSeq, limit])
      : sql.entities(AuditEvent, "select * from audit_events where project_id = ? and seq >= ? and seq <= ? order by seq limit ?", [
          projectId,
          fromSeq,
          toSeq,
          limit,
        ]);
  },

  /**
   * The next `limit` events of a project's chain in stored `seq` order, after `afterSeq` (from the
   * start when null, whatever the first seq is: a row with a seq below 1 must be seen too).
   */
  chainAfter(sql: Sql, projectId: string, afterSeq: number | null, limit: number): Promise<AuditEvent[]> {
    const after = keyset({ columns: ["seq"], direction: "asc" }, afterSeq === null ? null : [afterSeq]);
    return sql.entities(AuditEvent, `select * from audit_events where project_id = ? and ${after.where} ${after.orderBy} limit ?`, [
      projectId,
      ...after.params,
      limit,
    ]);
  },

  /** A page of a project's events matching `conditions`, newest first (by `seq`), strictly before `beforeSeq`. */
  page(sql: Sql, projectId: string, conditions: AuditEventConditions, beforeSeq: number | null, limit: number): Promise<AuditEvent[]> {
    const where = ["project_id = ?"];
    const params: SqlValue[] = [projectId];
    if (conditions.actions) {
      where.push(`action in (${[...conditions.actions].map(() => "?").join(", ")})`);
      params.push(...conditions.actions);
    }
    if (conditions.status) {
      where.push("status = ?");
      params.push(conditions.status);
    }
    if (conditions.userId) {
      where.push("user_id = ?");
      params.push(conditions.userId);
    }
    if (conditions.impersonatorId) {
      where.push("impersonator_id = ?");
      params.push(conditions.impersonatorId);
    }
    if (conditions.since) {
      where.push("created_at >= ?");
      params.push(conditions.since);
    }
    if (conditions.until) {
      where.push("created_at <= ?");
      params.push(conditions.until);
    }
    const before = keyset({ columns: ["seq"], direction: "desc" }, beforeSeq === null ? null : [beforeSeq]);
    return sql.entities(AuditEvent, `select * from audit_events where ${where.join(" and ")} and ${before.where} ${before.orderBy} limit ?`, [
      ...params,
      ...before.params,
      limit,
    ]);
  },
};
