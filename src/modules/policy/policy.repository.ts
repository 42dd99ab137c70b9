import type { Sql, SqlValue } from "../../db/database.js";

/** A project's impersonation policy, as the `projects` table keeps it. */
export interface PolicyValues {
  allowImpersonation: boolean;
  allowFrontendAuthentication: boolean;
  tokenTtlSeconds: number;
}

const columns: Record<keyof PolicyValues, string> = {
  allowImpersonation: "allow_impersonation",
  allowFrontendAuthentication: "allow_frontend_authentication",
  tokenTtlSeconds: "token_ttl_seconds",
};

/**
 * The statements on the policy columns of `projects` (the project's other columns belong to the
 * project repository; the policy is read with the project, where the caller's access is checked).
 */
export const policyRepository = {
  /** Writes `changes` to the project's policy columns; nothing when there are none. */
  async update(sql: Sql, projectId: string, changes: Partial<PolicyValues>): Promise<void> {
    const entries = (Object.keys(columns) as Array<keyof PolicyValues>).filter((key) => changes[key] !== undefined);
    if (entries.length === 0) return;
    const params: SqlValue[] = entries.map((key) => changes[key]!);
    await sql.run(`update projects set ${entries.map((key) => `${columns[key]} = ?`).join(", ")} where id = ?`, [...params, projectId]);
  },
};
