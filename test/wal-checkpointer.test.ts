import "reflect-metadata";
import type { MikroORM } from "@mikro-orm/core";
import { existsSync, readFileSync, statSync } from "node:fs";
import { endianness } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Database } from "../src/db/database.js";
import { databaseOf } from "../src/db/database-of.js";
import { createOrm } from "../src/db/orm.js";
import { startWalCheckpointer, type WalCheckpointer } from "../src/db/wal-checkpointer.js";
import { testDatabaseKind } from "./harness/databases.js";
import { tempDir } from "./harness/test-app.js";
import { eventually } from "./harness/webhook-receiver.js";

/**
 * The WAL checkpointer's worker thread, on a real SQLite file: it copies what commits write to the
 * WAL back into the database file (the main connection no longer does below 16,000 pages), the
 * WAL is then reused from its start instead of growing, and stop() ends the thread and closes its
 * connection. SQLite only: PostgreSQL has no checkpointer.
 */
describe.runIf(testDatabaseKind() === "sqlite")("the WAL checkpointer", () => {
  let dir: { path: string; remove(): void };
  let orm: MikroORM | undefined;
  let checkpointer: WalCheckpointer | null = null;

  afterEach(async () => {
    await checkpointer?.stop();
    await orm?.close(true);
    dir?.remove();
    checkpointer = null;
    orm = undefined;
  });

  async function open(): Promise<{ file: string; db: Database }> {
    dir = tempDir("masquerade-wal-");
    const file = join(dir.path, "wal.sqlite");
    orm = await createOrm({ databaseUrl: `sqlite:${file}` });
    const db = databaseOf(orm.em);
    await db.sql.run("create table wal_test (id integer primary key, body blob not null)");
    checkpointer = await startWalCheckpointer(`sqlite:${file}`, db);
    return { file, db };
  }

  /** One commit of about 2 MB: 500 rows of one page each. */
  const writeRound = (db: Database) =>
    db.sql.run("with recursive n(i) as (select 1 union all select i + 1 from n where i < 500) insert into wal_test (body) select randomblob(4000) from n");
  const roundBytes = 500 * 4000;
  const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);

  /**
   * Whether every frame in the WAL has been copied into the database file, read from the WAL index
   * (the -shm file; https://www.sqlite.org/walformat.html, in native byte order): the header's
   * mxFrame (offset 16) against the checkpoint's nBackfill (offset 96). Read, never done: a
   * checkpoint run from here would prove nothing about the worker's.
   */
  function checkpointed(file: string): boolean {
    const index = readFileSync(`${file}-shm`);
    const u32 = (offset: number) => (endianness() === "LE" ? index.readUInt32LE(offset) : index.readUInt32BE(offset));
    return index.length >= 136 && u32(16) > 0 && u32(96) === u32(16);
  }

  it("copies committed pages into the database file, so that the WAL is reused instead of growing", async () => {
    const { file, db } = await open();
    expect(checkpointer).not.toBeNull();
    // The main connection checkpoints by itself only past 16,000 pages (64 MB): far beyond this test.
    expect(await db.sql.all("pragma wal_autocheckpoint")).toEqual([{ wal_autocheckpoint: 16_000 }]);

    let rows = 0;
    let largestWal = 0;
    for (let round = 1; round <= 4; round++) {
      await writeRound(db);
      rows += 500;
      largestWal = Math.max(largestWal, size(`${file}-wal`));
      // Nothing but the checkpointer's thread copies these pages into the database file.
      await eventually(async () => checkpointed(file), 10_000, `round ${round} checkpointed`);
      expect(size(file)).toBeGreaterThanOrEqual(rows * 4000);
    }
    expect(largestWal).toBeGreaterThan(roundBytes);
    // Four rounds written; once checkpointed, each round's commit starts the WAL over (one round,
    // at most two should the checkpointer's own pass be at the very moment a round begins).
    expect(largestWal).toBeLessThan(2.5 * roundBytes);
    expect(await db.sql.one("select count(*) as n from wal_test")).toEqual({ n: 2000 });
  });

  it("stop() ends the thread, which closes its connection", async () => {
    const { file, db } = await open();
    await writeRound(db);
    await eventually(async () => checkpointed(file), 10_000, "the round checkpointed");
    // The server's connection closes first here: the checkpointer's is then the last one, and
    // SQLite removes the WAL when the last connection to the database closes.
    await orm!.close(true);
    orm = undefined;
    expect(existsSync(`${file}-wal`)).toBe(true);
    await checkpointer!.stop();
    checkpointer = null;
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it("is not started for an in-memory database", async () => {
    dir = tempDir("masquerade-wal-");
    orm = await createOrm({ databaseUrl: "sqlite::memory:" });
    expect(await startWalCheckpointer("sqlite::memory:", databaseOf(orm.em))).toBeNull();
  });
});
