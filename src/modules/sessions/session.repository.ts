import type { Sql, SqlValue } from "../../db/database.js";
import { keyset } from "../../db/keyset.js";
import type { ImpersonationMode } from "../policy/impersonation-mode.js";
import { User } from "../users/user.entity.js";
import { Session } from "./session.entity.js";

/** How a session is named: by id, or by the hash of its opaque token. */
export type SessionKey = { id: string } | { tokenHash: string };

/** A session with its user (null if the user no longer exists). */
export interface SessionWithUser {
  session: Session;
  user: User | null;
}

/**
 * Sessions matching one of the kill switches' filters: a project's or an impersonator's, narrowed
 * (for a policy that tightens) to one user, one mode, or those not started from an approved request.
 */
export type SessionFilter = ({ projectId: string } | { impersonatorId: string }) & {
  userId?: string;
  mode?: ImpersonationMode;
  /** Only sessions whose token was not created from an approved impersonation request. */
  withoutApproval?: boolean;
};

/** A project's sessions, as `sessions` lists them. */
export interface SessionListFilter {
  projectId: string;
  userId?: string | null;
  impersonatorId?: string | null;
  /** Only sessions neither revoked nor expired at this time. */
  activeAt?: Date | null;
}

const listOrder = { columns: ["started_at", "id"], direction: "desc" } as const;

/** Every statement on `sessions`. */
export const sessionRepository = {
  async insert(sql: Sql, session: Session): Promise<void> {
    await sql.insert(Session, session);
  },

  /** The session `key` names, or null. */
  find(sql: Sql, key: SessionKey): Promise<Session | null> {
    const [column, value] = "id" in key ? ["id", key.id] : ["token_hash", key.tokenHash];
    return sql.entity(Session, `select * from sessions where ${column} = ?`, [value]);
  },

  /** The session `key` names with its user, in one statement (authenticateSession returns both on every call). */
  async findWithUser(sql: Sql, key: SessionKey): Promise<SessionWithUser | null> {
    const [column, value] = "id" in key ? ["s.id", key.id] : ["s.token_hash", key.tokenHash];
    const found = await sql.entityWithJoined(
      Session,
      { u: User },
      `select s.*, ${sql.joinedColumns(User, "u")} from sessions s left join users u on u.id = s.user_id where ${column} = ?`,
      [value],
    );
    return found && { session: found.main, user: found.joined.u };
  },

  /** Whose the session `key` names is (its project and user), or null: a cheap read before a transaction. */
  async findOwner(sql: Sql, key: SessionKey): Promise<{ projectId: string; userId: string } | null> {
    const [column, value] = "id" in key ? ["id", key.id] : ["token_hash", key.tokenHash];
    const row = await sql.one<{ project_id: string; user_id: string }>(`select project_id, user_id from sessions where ${column} = ?`, [value]);
    return row && { projectId: row.project_id, userId: row.user_id };
  },

  /** Records a use of the session. */
  async touch(sql: Sql, id: string, now: Date): Promise<void> {
    await sql.run("update sessions set last_accessed_at = ? where id = ?", [now, id]);
  },

  /**
   * Revokes the session at `now` unless it is revoked already (an expired session is still marked
   * revoked). One conditional update: of concurrent revocations exactly one sees `true`.
   */
  async revokeIfActive(sql: Sql, id: string, now: Date): Promise<boolean> {
    return (await sql.run("update sessions set revoked_at = ? where id = ? and revoked_at is null", [now, id])) === 1;
  },

  /**
   * The sessions matching `filter` that are neither revoked nor expired at `now`, by id. Whether a
   * session was started from an approved request is its token's `impersonation_request_id`.
   */
  findActive(sql: Sql, filter: SessionFilter, now: Date): Promise<Session[]> {
    const conditions = ["projectId" in filter ? "s.project_id = ?" : "s.impersonator_id = ?", "s.revoked_at is null", "s.expires_at > ?"];
    const params: SqlValue[] = ["projectId" in filter ? filter.projectId : filter.impersonatorId, now];
    if (filter.userId !== undefined) {
      conditions.push("s.user_id = ?");
      params.push(filter.userId);
    }
    if (filter.mode !== undefined) {
      conditions.push("s.mode = ?");
      params.push(filter.mode);
    }
    if (filter.withoutApproval) {
      conditions.push("not exists (select 1 from impersonation_tokens t where t.id = s.impersonation_token_id and t.impersonation_request_id is not null)");
    }
    return sql.entities(Session, `select s.* from sessions s where ${conditions.join(" and ")} order by s.id`, params);
  },

  /** How many of `impersonatorId`'s sessions in the project are neither revoked nor expired at `now`. */
  async countActiveFor(sql: Sql, projectId: string, impersonatorId: string, now: Date): Promise<number> {
    const row = await sql.one<{ n: number | string }>(
      "select count(*) as n from sessions where project_id = ? and impersonator_id = ? and revoked_at is null and expires_at > ?",
      [projectId, impersonatorId, now],
    );
    return Number(row?.n ?? 0);
  },

  /** The projects in which `impersonatorId` has sessions neither revoked nor expired at `now`. */
  async projectsWithActive(sql: Sql, impersonatorId: string, now: Date): Promise<string[]> {
    const rows = await sql.all<{ project_id: string }>(
      "select distinct project_id from sessions where impersonator_id = ? and revoked_at is null and expires_at > ?",
      [impersonatorId, now],
    );
    return rows.map((row) => row.project_id);
  },

  /** Revokes, at `now`, those of `ids` not revoked yet. */
  async revokeAll(sql: Sql, ids: readonly string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await sql.run(`update sessions set revoked_at = ? where id in (${ids.map(() => "?").join(", ")}) and revoked_at is null`, [now, ...ids]);
  },

  /**
   * A page of a project's sessions, newest first (started_at, then id), after the cursor's
   * `[startedAt, id]`; `limit` rows at most.
   */
  list(sql: Sql, filter: SessionListFilter, after: readonly [Date, string] | null, limit: number): Promise<Session[]> {
    const conditions = ["project_id = ?"];
    const params: SqlValue[] = [filter.projectId];
    if (filter.userId) {
      conditions.push("user_id = ?");
      params.push(filter.userId);
    }
    if (filter.impersonatorId) {
      conditions.push("impersonator_id = ?");
      params.push(filter.impersonatorId);
    }
    if (filter.activeAt) {
      conditions.push("revoked_at is null and expires_at > ?");
      params.push(filter.activeAt);
    }
    const page = keyset(listOrder, after);
    conditions.push(page.where);
    params.push(...page.params, limit);
    return sql.entities(Session, `select * from sessions where ${conditions.join(" and ")} ${page.orderBy} limit ?`, params);
  },
};
