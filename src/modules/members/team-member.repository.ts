import type { Sql } from "../../db/database.js";
import { selectHolding } from "../../db/dialect.js";
import { keyset } from "../../db/keyset.js";
import { isUniqueViolation } from "../../db/unique-violation.js";
import { TeamMember } from "./team-member.entity.js";
import { TeamRole } from "./team-role.js";

/** Every statement on `team_members` (the credential look-up by API key is `apiKeyRepository`'s). */
export const teamMemberRepository = {
  findByEmail(sql: Sql, email: string): Promise<TeamMember | null> {
    return sql.entity(TeamMember, "select * from team_members where email = ?", [email]);
  },

  /** A page of members, oldest first, after the cursor `after` (`[createdAt, id]`), at most `limit` rows. */
  list(sql: Sql, args: { after: readonly [Date, string] | null; limit: number }): Promise<TeamMember[]> {
    const page = keyset({ columns: ["created_at", "id"], direction: "asc" }, args.after);
    return sql.entities(TeamMember, `select * from team_members where ${page.where} ${page.orderBy} limit ?`, [...page.params, args.limit]);
  },

  findById(sql: Sql, id: string): Promise<TeamMember | null> {
    return sql.entity(TeamMember, "select * from team_members where id = ?", [id]);
  },

  /** The members among `ids` (a batch loader's read: duplicates allowed, unknown ids skipped). */
  findByIds(sql: Sql, ids: readonly string[]): Promise<TeamMember[]> {
    return sql.entities(TeamMember, `select * from team_members where id in (${ids.map(() => "?").join(", ")})`, ids);
  },

  async countEnabledAdmins(sql: Sql): Promise<number> {
    const row = await sql.one<{ count: number | string }>("select count(*) as count from team_members where role = ? and disabled = ?", [TeamRole.ADMIN, false]);
    return Number(row?.count ?? 0);
  },

  async hasAny(sql: Sql): Promise<boolean> {
    return (await sql.one("select 1 as found from team_members limit 1")) !== null;
  },

  /** Inserts `member`; false, and nothing written, when a member already has its email (the unique index decides). */
  async insertUnlessEmailTaken(sql: Sql, member: TeamMember): Promise<boolean> {
    try {
      await sql.insert(TeamMember, member);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  },

  /**
   * Whether the member is enabled with one of `roles`, holding its row until the transaction ends
   * (`selectHolding`). A kill switch (`setAccess`, disabling or demoting) then either committed
   * first, and this sees it, or waits for this transaction and undoes what it wrote: a token,
   * request or decision written by a call that authenticated before the kill switch cannot outlive it.
   */
  async holdIfEnabledAs(sql: Sql, id: string, roles: readonly TeamRole[]): Promise<boolean> {
    const rows = await selectHolding(sql, `select id from team_members where id = ? and disabled = ? and role in (${roles.map(() => "?").join(", ")})`, [
      id,
      false,
      ...roles,
    ]);
    return rows.length === 1;
  },

  /** Sets a member's role and disabled flag. */
  setAccess(sql: Sql, id: string, access: { role: TeamRole; disabled: boolean }): Promise<number> {
    return sql.run("update team_members set role = ?, disabled = ? where id = ?", [access.role, access.disabled, id]);
  },
};
