import type { Sql } from "../../db/database.js";
import { Project } from "./project.entity.js";

/** Every statement on `projects`. */
export const projectRepository = {
  findById(sql: Sql, id: string): Promise<Project | null> {
    return sql.entity(Project, "select * from projects where id = ?", [id]);
  },

  /** The project whose frontend presents this public token (X-Public-Token), by the token's hash. */
  findByPublicTokenHash(sql: Sql, publicTokenHash: string): Promise<Project | null> {
    return sql.entity(Project, "select * from projects where public_token_hash = ?", [publicTokenHash]);
  },

  /** Every project's login redirect URL, each once. */
  async loginRedirectUrls(sql: Sql): Promise<string[]> {
    const rows = await sql.all<{ login_redirect_url: string }>("select distinct login_redirect_url from projects");
    return rows.map((row) => row.login_redirect_url);
  },

  async hasAny(sql: Sql): Promise<boolean> {
    return (await sql.one("select 1 as found from projects limit 1")) !== null;
  },

  insert(sql: Sql, project: Project): Promise<void> {
    return sql.insert(Project, project);
  },
};
