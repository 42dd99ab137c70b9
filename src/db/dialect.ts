import type { DatabaseKind } from "./orm.js";
import type { Sql } from "./database.js";

/**
 * Serialises the transactions that take the lock named `key`, across connections and instances,
 * until the transaction that took it ends: PostgreSQL's transaction-scoped advisory lock. On SQLite
 * it does nothing: SQLite has one writer at a time already (`begin immediate`).
 */
export async function lockUntilCommit(kind: DatabaseKind, sql: Sql, key: string): Promise<void> {
  if (kind !== "postgresql") return;
  await sql.all("select pg_advisory_xact_lock(hashtext(?))", [key]);
}
