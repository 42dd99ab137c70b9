import type { Sql } from "../../db/database.js";
import { User } from "./user.entity.js";

/** Statements on `users`. */
export const userRepository = {
  /** The user with this id in this project, or null. */
  findInProject(sql: Sql, projectId: string, id: string): Promise<User | null> {
    return sql.entity(User, "select * from users where id = ? and project_id = ?", [id, projectId]);
  },
};
