import type { EntityManager } from "@mikro-orm/core";
import { runTransaction } from "./run-transaction.js";
import type { Tx } from "./database.js";
import { databaseOf } from "./database-of.js";

/**
 * @deprecated A running MikroORM transaction: its EntityManager, its statements, and afterCommit.
 * Goes with the last service that works through an EntityManager; use `Database.transaction`.
 */
export interface OrmTx extends Tx {
  em: EntityManager;
}

/**
 * @deprecated Use `Database.transaction`.
 * Runs `fn` in one MikroORM transaction (for work that changes entities through the unit of work;
 * hot paths use `SqlDatabase.transaction`). Retries and afterCommit as in `runTransaction`.
 */
export function inTransaction<T>(em: EntityManager, fn: (tx: OrmTx) => Promise<T>): Promise<T> {
  return runTransaction((afterCommit) => em.transactional((txEm) => fn({ em: txEm, sql: databaseOf(txEm).within(txEm), afterCommit })));
}
