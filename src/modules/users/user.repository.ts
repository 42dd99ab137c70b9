import type { Sql, SqlValue } from "../../db/database.js";
import { keyset } from "../../db/keyset.js";
import { isUniqueViolation } from "../../db/unique-violation.js";
import { User } from "./user.entity.js";

/** The fields `update` writes; an absent one stays as it is. */
export interface UserChanges {
  name?: string | null;
  protected?: boolean;
  externalId?: string;
}

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
   * Writes the fields `changes` names (the others stay as the row has them). With
   * `externalIdOnlyIfUnprotected`, a new external id lands only on a user that is not protected or
   * already has it: one conditional update, so a protection committed meanwhile wins over it.
   * `notWritten`: that condition failed (or the user is gone), nothing written; `externalIdTaken`:
   * another user of the project has that external id (the unique index decides; on PostgreSQL the
   * transaction is then aborted, so the caller must give up on it).
   */
  async update(sql: Sql, id: string, changes: UserChanges, guard: { externalIdOnlyIfUnprotected: boolean }): Promise<"updated" | "notWritten" | "externalIdTaken"> {
    const assignments = (
      [
        ["name", changes.name],
        ["protected", changes.protected],
        ["external_id", changes.externalId],
      ] as const
    ).filter(([, value]) => value !== undefined) as Array<readonly [string, SqlValue]>;
    if (assignments.length === 0) return "updated";
    const conditions = ["id = ?"];
    const params: SqlValue[] = [...assignments.map(([, value]) => value), id];
    if (guard.externalIdOnlyIfUnprotected && changes.externalId !== undefined) {
      conditions.push("(protected = ? or external_id = ?)");
      params.push(false, changes.externalId);
    }
    try {
      const written = await sql.run(`update users set ${assignments.map(([column]) => `${column} = ?`).join(", ")} where ${conditions.join(" and ")}`, params);
      return written === 1 ? "updated" : "notWritten";
    } catch (error) {
      if (isUniqueViolation(error)) return "externalIdTaken";
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
