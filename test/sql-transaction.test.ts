import "reflect-metadata";
import type { MikroORM } from "@mikro-orm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrm } from "../src/db/orm.js";
import type { Database, Sql } from "../src/db/database.js";
import { databaseOf } from "../src/db/database-of.js";
import { freshDatabaseUrl, type FreshDatabase } from "./harness/databases.js";

/**
 * The hand-written SQL layer's transactions (the hot paths' own), on this project's driver: all or
 * nothing, and a transaction's statements stop working once it has ended.
 */
let database: FreshDatabase;
let orm: MikroORM;
let db: Database;

beforeAll(async () => {
  database = await freshDatabaseUrl();
  orm = await createOrm({ databaseUrl: database.url });
  db = databaseOf(orm.em.fork());
});
afterAll(async () => {
  await orm?.close(true);
  await database?.drop();
});

const countUsers = async (email: string) => ((await db.sql.one<{ n: number | string }>("select count(*) as n from users where email = ?", [email]))?.n ?? 0).toString();
const insertUser = (sql: Sql, email: string) =>
  sql.run("insert into users (id, project_id, email, name, created_at) values (?, ?, ?, ?, ?)", [`user-${email}`, "project-x", email, null, new Date()]);

describe("Database.transaction", () => {
  it("commits what it wrote, and runs afterCommit callbacks only then", async () => {
    const calls: string[] = [];
    await db.transaction(async (tx) => {
      await insertUser(tx.sql, "committed@example.com");
      tx.afterCommit(() => void calls.push("after commit"));
      calls.push("in transaction");
    });
    expect(calls).toEqual(["in transaction", "after commit"]);
    expect(await countUsers("committed@example.com")).toBe("1");
  });

  it("rolls back everything it wrote when it throws, and drops its afterCommit callbacks", async () => {
    const calls: string[] = [];
    await expect(
      db.transaction(async (tx) => {
        await insertUser(tx.sql, "rolled-back@example.com");
        tx.afterCommit(() => void calls.push("after commit"));
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(calls).toEqual([]);
    expect(await countUsers("rolled-back@example.com")).toBe("0");
    // The connection is usable, and outside any transaction, afterwards.
    await insertUser(db.sql, "after-rollback@example.com");
    expect(await countUsers("after-rollback@example.com")).toBe("1");
  });

  it("refuses a statement issued through a transaction that has ended", async () => {
    let ended: Sql | null = null;
    await db.transaction(async (tx) => {
      ended = tx.sql;
    });
    await expect(insertUser(ended!, "too-late@example.com")).rejects.toThrow();
    expect(await countUsers("too-late@example.com")).toBe("0");
  });
});
