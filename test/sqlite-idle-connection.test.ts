import "reflect-metadata";
import type { MikroORM } from "@mikro-orm/core";
import type { AbstractSqlConnection } from "@mikro-orm/knex";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/database.js";
import { databaseOf } from "../src/db/database-of.js";
import { createOrm } from "../src/db/orm.js";
import { idleConnection, type SqliteConnectionPool } from "../src/db/sqlite-idle-connection.js";
import { testDatabaseKind } from "./harness/databases.js";
import { tempDir } from "./harness/test-app.js";

interface Connection {
  readonly inTransaction: boolean;
  prepare(text: string): { run(): unknown };
}

/**
 * Pins what `idleConnection` assumes of knex's and tarn's insides (SQLite's statements outside a
 * transaction skip the pool on it): with the real knex client of a real SQLite database, it returns
 * the connection knex hands out when nobody holds it, and null whenever someone does. A knex or
 * tarn of another shape fails here, not in production.
 */
describe.runIf(testDatabaseKind() === "sqlite")("idleConnection (knex and tarn's private state)", () => {
  let dir: { path: string; remove(): void };
  let orm: MikroORM;
  let db: Database;
  let client: SqliteConnectionPool<Connection>;

  beforeAll(async () => {
    dir = tempDir("masquerade-idle-");
    orm = await createOrm({ databaseUrl: `sqlite:${join(dir.path, "idle.sqlite")}` });
    db = databaseOf(orm.em);
    client = (orm.em.getConnection() as AbstractSqlConnection).getKnex().client as unknown as SqliteConnectionPool<Connection>;
  });
  afterAll(async () => {
    await orm?.close(true);
    dir?.remove();
  });

  it("returns the connection knex hands out, when nobody holds it", async () => {
    const connection = await client.acquireConnection();
    await client.releaseConnection(connection);
    const idle = idleConnection(client);
    expect(idle).not.toBeNull();
    expect(idle).toBe(connection);
    expect(idle!.inTransaction).toBe(false);
  });

  it("returns null while knex has handed the connection out", async () => {
    const connection = await client.acquireConnection();
    try {
      expect(idleConnection(client)).toBeNull();
    } finally {
      await client.releaseConnection(connection);
    }
    expect(idleConnection(client)).toBe(connection);
  });

  it("returns null inside a transaction, the Sql layer's and MikroORM's alike", async () => {
    const seen: unknown[] = [];
    await db.transaction(async () => void seen.push(idleConnection(client)));
    await orm.em.fork().transactional(async () => void seen.push(idleConnection(client)));
    expect(seen).toEqual([null, null]);
    expect(idleConnection(client)).not.toBeNull();
  });

  it("returns null for a free connection left inside a transaction", async () => {
    const connection = await client.acquireConnection();
    connection.prepare("begin").run();
    await client.releaseConnection(connection);
    try {
      expect(idleConnection(client)).toBeNull();
    } finally {
      connection.prepare("rollback").run();
    }
    expect(idleConnection(client)).toBe(connection);
  });

  it("returns null once the pool is destroyed", async () => {
    await orm.close(true);
    expect(idleConnection(client)).toBeNull();
  });
});
