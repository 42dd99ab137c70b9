import { DeadlockException, type EntityManager } from "@mikro-orm/core";

/** A running transaction: its EntityManager, and work to do only once it has committed. */
export interface Tx {
  em: EntityManager;
  afterCommit(fn: () => void | Promise<void>): void;
}

const maxDeadlockRetries = 3;

/**
 * Runs `fn` in one database transaction. Callbacks registered with `afterCommit` run only after
 * the commit succeeded (publishing to subscribers, waking the webhook worker): nothing is announced
 * that rolled back. A transaction the database aborted as a deadlock victim is run again from the
 * start (it changed nothing), a bounded number of times.
 */
export async function inTransaction<T>(em: EntityManager, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const pending: Array<() => void | Promise<void>> = [];
    let result: T;
    try {
      result = await em.transactional((txEm) => fn({ em: txEm, afterCommit: (cb) => pending.push(cb) }));
    } catch (error) {
      if (error instanceof DeadlockException && attempt < maxDeadlockRetries) continue;
      throw error;
    }
    for (const callback of pending) {
      try {
        await callback();
      } catch (error) {
        console.error("after-commit callback failed:", error instanceof Error ? error.message : error);
      }
    }
    return result;
  }
}
