import type { Sql, SqlValue } from "../../db/database.js";
import { keyset } from "../../db/keyset.js";
import { isUniqueViolation } from "../../db/unique-violation.js";
import { User } from "./user.entity.js";

/** The users list's order, oldest first; its cursor is `[createdAt, id]`. */
const listOrder = { columns: ["u.created_at", "u.id"], direction: "asc" } as const;

/** Every statement on `users`. */
export const userRepository = {
  /**
   * Inserts `user`; false, and nothing written, when its project already has a user with its email
   * or its external id (the unique indexes decide).
   */
  async insertUnlessTaken(sql: Sql, user: User): Promise<boolean> {
    try {
      await sql.insert(User, user);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  },

  /** A user of `projectId`; null for an unknown id or another project's user. */
  findInProject(sql: Sql, projectId: string, id: string): Promise<User | null> {
    return sql.entity(User, "select * from users where id = ? and project_id = ?", [id, projectId]);
  },

  /** The user of `projectId` with the application's id `externalId`; null when there is none. */
  findByExternalId(sql: Sql, projectId: string, externalId: string): Promise<User | null> {
    return sql.entity(User, "select * from users where project_id = ? and external_id = ?", [projectId, externalId]);
  },

  /**
   * Writes a user's name, protected flag and external id; false, and nothing written, when another
   * user of the project has that external id (the unique index decides; on PostgreSQL the
   * transaction is then aborted, so the caller must give up on it).
   */
  async setDetails(sql: Sql, id: string, details: { name: string | null; protected: boolean; externalId: string | null }): Promise<boolean> {
    try {
      await sql.run("update users set name = ?, protected = ?, external_id = ? where id = ?", [details.name, details.protected, details.externalId, id]);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  },

  /** The users among `ids` (a batch loader's read: duplicates allowed, unknown ids skipped). */
  findByIds(sql: Sql, ids: readonly string[]): Promise<User[]> {
    return sql.entities(User, `select * from users where id in (${ids.map(() => "?").join(", ")})`, ids);
  },

  /**
   * A page of a project's users, oldest first, after the cursor `after` (`[createdAt, id]`), at most
   * `limit` rows; `search` (lower case) matches email or name as a substring, wildcards literally.
   */
  list(sql: Sql, args: { projectId: string; search: string | null; after: readonly [Date, string] | null; limit: number }): Promise<User[]> {
    const page = keyset(listOrder, args.after);
    const conditions = ["u.project_id = ?", page.where];
    const params: SqlValue[] = [args.projectId, ...page.params];
    if (args.search) {
      const pattern = `%${escapeLike(args.search)}%`;
      conditions.push("(lower(u.email) like ? escape '\\' or lower(u.name) like ? escape '\\')");
      params.push(pattern, pattern);
    }
    return sql.entities(User, `select u.* from users u where ${conditions.join(" and ")} ${page.orderBy} limit ?`, [...params, args.limit]);
  },
};

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
