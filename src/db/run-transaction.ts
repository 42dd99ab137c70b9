import { logger } from "../log/logger.js";
import { DeadlockException } from "@mikro-orm/core";

export type AfterCommit = (fn: () => void | Promise<void>) => void;

const maxDeadlockRetries = 3;

/**
 * Runs `attempt` (one whole transaction) and then the callbacks it registered with afterCommit:
 * nothing is announced that rolled back (publishing to subscribers, waking the webhook worker). A
 * transaction the database aborted as a deadlock victim changed nothing and is run again from the
 * start, a bounded number of times.
 */
export async function runTransaction<T>(attempt: (afterCommit: AfterCommit) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const pending: Array<() => void | Promise<void>> = [];
    let result: T;
    try {
      result = await attempt((callback) => pending.push(callback));
    } catch (error) {
      if (isDeadlock(error) && tries < maxDeadlockRetries) continue;
      throw error;
    }
    for (const callback of pending) {
      try {
        await callback();
      } catch (error) {
        logger.error({ err: error }, "after-commit callback failed");
      }
    }
    return result;
  }
}

function isDeadlock(error: unknown): boolean {
  // MikroORM converts the errors of its own queries; hand-written SQL reaches us as pg's error (40P01).
  return error instanceof DeadlockException || (error as { code?: unknown } | null)?.code === "40P01";
}
