import type { EntityManager } from "@mikro-orm/core";
import { runTransaction } from "./run-transaction.js";
import { sqlDatabaseOf, type SqlTx } from "./sql.js";

/** A running MikroORM transaction: its EntityManager, its hand-written statements, and afterCommit. */
export interface Tx extends SqlTx {
  em: EntityManager;
}

/**
 * Runs `fn` in one MikroORM transaction (for work that changes entities through the unit of work;
 * hot paths use `SqlDatabase.transaction`). Retries and afterCommit as in `runTransaction`.
 */
export function inTransaction<T>(em: EntityManager, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return runTransaction((afterCommit) => em.transactional((txEm) => fn({ em: txEm, sql: sqlDatabaseOf(txEm).within(txEm), afterCommit })));
}
