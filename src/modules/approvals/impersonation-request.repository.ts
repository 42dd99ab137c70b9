import type { Sql, SqlValue } from "../../db/database.js";
import { keyset } from "../../db/keyset.js";
import { impersonatingRoles } from "../members/team-role.js";
import { ImpersonationRequest } from "./impersonation-request.entity.js";
import { ImpersonationRequestStatus } from "./impersonation-request-status.js";

const { PENDING, APPROVED, DENIED, EXPIRED, USED } = ImpersonationRequestStatus;

/** The requester may still impersonate: enabled, with an impersonating role (checked in the same statement as a decision). */
const requesterMayImpersonate = `exists (select 1 from team_members m where m.id = impersonation_requests.requester_id and m.disabled = ? and m.role in (${impersonatingRoles.map(() => "?").join(", ")}))`;
const requesterMayImpersonateParams: SqlValue[] = [false, ...impersonatingRoles];

/** A decision: from PENDING to APPROVED or DENIED. */
export interface Decision {
  status: typeof APPROVED | typeof DENIED;
  decidedById: string;
  denialReason: string | null;
}

/**
 * Every statement on `impersonation_requests`. Each status change is one conditional UPDATE on the
 * status it leaves (and on time left): its affected-row count says whether this caller won.
 */
export const impersonationRequestRepository = {
  async insert(sql: Sql, request: ImpersonationRequest): Promise<void> {
    await sql.insert(ImpersonationRequest, request);
  },

  findById(sql: Sql, id: string): Promise<ImpersonationRequest | null> {
    return sql.entity(ImpersonationRequest, "select * from impersonation_requests where id = ?", [id]);
  },

  /** PENDING → APPROVED or DENIED, while time is left and the requester may still impersonate. */
  async decide(sql: Sql, id: string, decision: Decision, now: Date): Promise<boolean> {
    const changed = await sql.run(
      `update impersonation_requests set status = ?, decided_by_id = ?, decided_at = ?, denial_reason = ?
       where id = ? and status = ? and expires_at > ? and ${requesterMayImpersonate}`,
      [decision.status, decision.decidedById, now, decision.denialReason, id, PENDING, now, ...requesterMayImpersonateParams],
    );
    return changed === 1;
  },

  /** APPROVED → USED (its one token), while time is left. */
  async markUsed(sql: Sql, id: string, now: Date): Promise<boolean> {
    const changed = await sql.run("update impersonation_requests set status = ?, used_at = ? where id = ? and status = ? and expires_at > ?", [
      USED,
      now,
      id,
      APPROVED,
      now,
    ]);
    return changed === 1;
  },

  /** PENDING or APPROVED → EXPIRED for every open request matching `filter` (the kill switches); returns how many. */
  voidOpen(sql: Sql, filter: { projectId: string } | { requesterId: string }, now: Date): Promise<number> {
    const [column, value] = "projectId" in filter ? ["project_id", filter.projectId] : ["requester_id", filter.requesterId];
    return sql.run(`update impersonation_requests set status = ? where ${column} = ? and status in (?, ?) and expires_at > ?`, [
      EXPIRED,
      value,
      PENDING,
      APPROVED,
      now,
    ]);
  },

  /** A page of a project's requests, newest first, optionally of one effective status at `now`. */
  list(
    sql: Sql,
    filter: { projectId: string; status: ImpersonationRequestStatus | null; now: Date },
    after: readonly [Date, string] | null,
    limit: number,
  ): Promise<ImpersonationRequest[]> {
    const conditions = ["project_id = ?"];
    const params: SqlValue[] = [filter.projectId];
    if (filter.status === PENDING || filter.status === APPROVED) {
      conditions.push("status = ? and expires_at > ?");
      params.push(filter.status, filter.now);
    } else if (filter.status === EXPIRED) {
      conditions.push("(status = ? or (status in (?, ?) and expires_at <= ?))");
      params.push(EXPIRED, PENDING, APPROVED, filter.now);
    } else if (filter.status) {
      conditions.push("status = ?");
      params.push(filter.status);
    }
    const page = keyset({ columns: ["created_at", "id"], direction: "desc" }, after);
    conditions.push(page.where);
    params.push(...page.params, limit);
    return sql.entities(ImpersonationRequest, `select * from impersonation_requests where ${conditions.join(" and ")} ${page.orderBy} limit ?`, params);
  },
};
