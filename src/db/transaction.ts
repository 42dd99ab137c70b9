import type { EntityManager } from "@mikro-orm/core";

/** A running transaction: its EntityManager, and work to do only once it has committed. */
export interface Tx {
  em: EntityManager;
  afterCommit(fn: () => void | Promise<void>): void;
}

/**
 * Runs `fn` in one database transaction. Callbacks registered with `afterCommit` run only after
 * the commit succeeded (publishing to subscribers, waking the webhook worker): nothing is announced
 * that rolled back.
 */
export async function inTransaction<T>(em: EntityManager, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const pending: Array<() => void | Promise<void>> = [];
  const result = await em.transactional((txEm) => fn({ em: txEm, afterCommit: (cb) => pending.push(cb) }));
  for (const callback of pending) {
    try {
      await callback();
    } catch (error) {
      console.error("after-commit callback failed:", error instanceof Error ? error.message : error);
    }
  }
  return result;
}
