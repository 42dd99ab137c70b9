import type { Sql } from "../../db/database.js";
import { TeamMember } from "../members/team-member.entity.js";
import { Project } from "../projects/project.entity.js";
import { User } from "../users/user.entity.js";
import { ImpersonationToken } from "./impersonation-token.entity.js";

/** A token found for its exchange, with what the exchange checks; a joined row is null when gone. */
export interface TokenForExchange {
  token: ImpersonationToken;
  project: Project | null;
  impersonator: TeamMember | null;
  user: User | null;
}

/** Every statement on `impersonation_tokens`. */
export const impersonationTokenRepository = {
  async insert(sql: Sql, token: ImpersonationToken): Promise<void> {
    await sql.insert(ImpersonationToken, token);
  },

  /** The token with this hash, or null. */
  findByHash(sql: Sql, tokenHash: string): Promise<ImpersonationToken | null> {
    return sql.entity(ImpersonationToken, "select * from impersonation_tokens where token_hash = ?", [tokenHash]);
  },

  /** The token with this hash and its project, impersonator and user, in one statement (the exchange's hot path). */
  async findForExchange(sql: Sql, tokenHash: string): Promise<TokenForExchange | null> {
    const found = await sql.entityWithJoined(
      ImpersonationToken,
      { p: Project, m: TeamMember, u: User },
      `select t.*, ${sql.joinedColumns(Project, "p")}, ${sql.joinedColumns(TeamMember, "m")}, ${sql.joinedColumns(User, "u")}
       from impersonation_tokens t
       left join projects p on p.id = t.project_id
       left join team_members m on m.id = t.impersonator_id
       left join users u on u.id = t.user_id
       where t.token_hash = ?`,
      [tokenHash],
    );
    return found && { token: found.main, project: found.joined.p, impersonator: found.joined.m, user: found.joined.u };
  },

  /**
   * Marks the token used, if it is still unused, not voided and not expired at `now`. One
   * conditional update: of concurrent exchanges of one token exactly one sees `true`.
   */
  async markUsed(sql: Sql, id: string, now: Date): Promise<boolean> {
    const changed = await sql.run(
      "update impersonation_tokens set used_at = ? where id = ? and used_at is null and voided_at is null and expires_at > ?",
      [now, id, now],
    );
    return changed === 1;
  },

  /** Voids every unused, unexpired token matching `filter` (the kill switches); returns how many. */
  voidOutstanding(sql: Sql, filter: { projectId: string } | { impersonatorId: string }, now: Date): Promise<number> {
    const [column, value] = "projectId" in filter ? ["project_id", filter.projectId] : ["impersonator_id", filter.impersonatorId];
    return sql.run(
      `update impersonation_tokens set voided_at = ? where ${column} = ? and used_at is null and voided_at is null and expires_at > ?`,
      [now, value, now],
    );
  },
};
