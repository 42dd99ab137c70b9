import type { Sql, SqlValue } from "../../db/database.js";
import { keyset } from "../../db/keyset.js";
import type { ApprovalRequirement } from "../policy/approval-requirement.js";
import type { ImpersonationMode } from "../policy/impersonation-mode.js";
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

  /** A page of projects, oldest first, after the cursor `after` (`[createdAt, id]`), at most `limit` rows. */
  list(sql: Sql, args: { after: readonly [Date, string] | null; limit: number }): Promise<Project[]> {
    const page = keyset({ columns: ["created_at", "id"], direction: "asc" }, args.after);
    return sql.entities(Project, `select * from projects where ${page.where} ${page.orderBy} limit ?`, [...page.params, args.limit]);
  },

  /** Sets a project's name and login redirect URL. */
  setDetails(sql: Sql, id: string, details: { name: string; loginRedirectUrl: string }): Promise<number> {
    return sql.run("update projects set name = ?, login_redirect_url = ? where id = ?", [details.name, details.loginRedirectUrl, id]);
  },

  /** Replaces the backend secret's hash: the old secret stops working when this commits. */
  setSecretHash(sql: Sql, id: string, secretHash: string): Promise<number> {
    return sql.run("update projects set secret_hash = ? where id = ?", [secretHash, id]);
  },

  /** Replaces the public token's hash: the old token stops working when this commits. */
  setPublicTokenHash(sql: Sql, id: string, publicTokenHash: string): Promise<number> {
    return sql.run("update projects set public_token_hash = ? where id = ?", [publicTokenHash, id]);
  },

  /** Writes `changes` to the project's impersonation-policy columns; nothing when there are none. */
  async setPolicy(sql: Sql, id: string, changes: Partial<PolicyColumns>): Promise<void> {
    const keys = (Object.keys(policyColumns) as Array<keyof PolicyColumns>).filter((key) => changes[key] !== undefined);
    if (keys.length === 0) return;
    const params: SqlValue[] = keys.map((key) => changes[key] as SqlValue);
    await sql.run(`update projects set ${keys.map((key) => `${policyColumns[key]} = ?`).join(", ")} where id = ?`, [...params, id]);
  },

  insert(sql: Sql, project: Project): Promise<void> {
    return sql.insert(Project, project);
  },
};

/** A project's impersonation policy, as the `projects` table keeps it. */
export interface PolicyColumns {
  allowImpersonation: boolean;
  allowFrontendAuthentication: boolean;
  tokenTtlSeconds: number;
  /** null: no limit. */
  maxActiveSessionsPerImpersonator: number | null;
  defaultMode: ImpersonationMode;
  allowReadWrite: boolean;
  requireApproval: ApprovalRequirement;
  approvalTtlMinutes: number;
}

const policyColumns: Record<keyof PolicyColumns, string> = {
  allowImpersonation: "allow_impersonation",
  allowFrontendAuthentication: "allow_frontend_authentication",
  tokenTtlSeconds: "token_ttl_seconds",
  maxActiveSessionsPerImpersonator: "max_active_sessions_per_impersonator",
  defaultMode: "default_mode",
  allowReadWrite: "allow_read_write",
  requireApproval: "require_approval",
  approvalTtlMinutes: "approval_ttl_minutes",
};

/** The policy's columns, in one order (old and new values in audit details list them so). */
export const policyColumnNames = Object.keys(policyColumns) as ReadonlyArray<keyof PolicyColumns>;
