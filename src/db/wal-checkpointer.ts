import { logger } from "../log/logger.js";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { parseDatabaseUrl } from "./orm.js";
import type { Database } from "./database.js";

/** How often the checkpointer copies committed WAL frames into the database file. */
const checkpointIntervalMs = 100;

/**
 * The main connection checkpoints by itself only once the WAL holds this many pages (64 MB at
 * 4 KiB): a fallback should the checkpointer fall behind or stop.
 */
const fallbackAutocheckpointPages = 16_000;

/** SQLite's own default, restored should the checkpointer stop. */
const defaultAutocheckpointPages = 1000;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

/**
 * SQLite in WAL mode copies committed pages back into the database file (a checkpoint, with its
 * fsync) from inside whichever commit crosses the WAL's threshold; on the one connection every
 * request shares, that put a checkpoint inside a request every few hundred commits. This runs the
 * checkpoints on a connection of their own in a worker thread (wal-checkpoint-worker.js) instead.
 * PASSIVE checkpoints never wait for or block the writer. Durability is unchanged: a commit is
 * durable once it is in the WAL, as before. Returns null for PostgreSQL and in-memory SQLite.
 */
export async function startWalCheckpointer(databaseUrl: string, db: Database): Promise<WalCheckpointer | null> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind !== "sqlite" || target.location === ":memory:") return null;
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(new URL("./wal-checkpoint-worker.js", import.meta.url), {
    workerData: { driver, filename: target.location, intervalMs: checkpointIntervalMs },
  });
  worker.on("message", (message: { error?: string }) => {
    if (message.error) logger.warn({ reason: message.error }, "WAL checkpoint failed");
  });
  worker.on("error", (error) => logger.error({ err: error }, "WAL checkpointer stopped"));
  worker.unref();
  await db.sql.all(`pragma wal_autocheckpoint = ${fallbackAutocheckpointPages}`);
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      // Died on its own: commits checkpoint by themselves again, at SQLite's usual threshold.
      if (!stopping) void db.sql.all(`pragma wal_autocheckpoint = ${defaultAutocheckpointPages}`).catch(() => undefined);
      resolve();
    }),
  );
  return {
    async stop() {
      stopping = true;
      worker.postMessage("stop");
      await exited;
    },
  };
}
