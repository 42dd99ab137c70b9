// @ts-check
/**
 * The WAL checkpointer's thread (started by wal-checkpointer.ts): a SQLite connection of its own
 * that copies committed WAL frames into the database file every `intervalMs`, until told to stop.
 *
 * Plain JavaScript (checked by tsc), so that the same file runs from src/ (the tests) and from
 * dist/ (tsc copies it there): Node runs a worker's file as it is.
 */
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";

/** @type {{ driver: string; filename: string; intervalMs: number }} */
const { driver, filename, intervalMs } = workerData;
if (!parentPort) throw new Error("wal-checkpoint-worker.js runs as a worker thread");
const port = parentPort;

// better-sqlite3, as resolved by the main thread (only db/orm.ts names a driver package).
const Database = createRequire(import.meta.url)(driver);
const db = new Database(filename);
let lastReport = 0;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    // A lasting failure (a full disk) is reported once a minute, not ten times a second.
    if (Date.now() - lastReport < 60_000) return;
    lastReport = Date.now();
    port.postMessage({ error: String((error instanceof Error && error.message) || error) });
  }
}, intervalMs);
port.on("message", () => {
  clearInterval(timer);
  db.close();
  port.close();
});
