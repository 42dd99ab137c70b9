import "reflect-metadata";
import type { MikroORM } from "@mikro-orm/core";
import { afterAll, describe, expect, it } from "vitest";
import { postgresqlMigrations } from "../migrations/postgresql/index.js";
import { sqliteMigrations } from "../migrations/sqlite/index.js";
import { createOrm } from "../src/db/orm.js";
import { freshDatabaseUrl, testDatabaseKind, type FreshDatabase } from "./harness/databases.js";

/**
 * Migrations are the only schema path, so a migrated database must be exactly what the entities
 * describe: an entity changed without a migration fails here. This file runs in both vitest
 * projects, each time on that project's driver (TEST_DATABASE).
 */
const kind = testDatabaseKind();
const migrationsList = kind === "postgresql" ? postgresqlMigrations : sqliteMigrations;

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freshDatabase(): Promise<FreshDatabase> {
  const db = await freshDatabaseUrl();
  cleanups.push(() => db.drop());
  return db;
}

async function open(url: string, migrate = true): Promise<MikroORM> {
  const orm = await createOrm({ databaseUrl: url, migrate });
  cleanups.push(() => orm.close(true));
  return orm;
}

/** The DDL SQLite stores for each table and index (it upper-cases the leading CREATE ... keywords). */
async function sqliteMaster(orm: MikroORM): Promise<Map<string, string>> {
  const rows = (await orm.em.getConnection().execute("select name, sql from sqlite_master")) as Array<{ name: string; sql: string | null }>;
  const normalise = (sql: string) => sql.replace(/^create (unique )?(table|index)/i, (keywords) => keywords.toLowerCase());
  return new Map(rows.filter((row) => row.sql).map((row) => [row.name, normalise(row.sql!)]));
}

/**
 * The schema diff minus the one piece of known, harmless noise, which exists on SQLite only.
 *
 * MikroORM 6.6.16 reads an enum's CHECK constraint back from SQLite wrongly when it has more than
 * two items (BaseSqliteSchemaHelper.getEnumDefinitions splits `'ADMIN', 'DEVELOPER',
 * 'SUPPORT_MANAGER', 'VIEWER'` into just ADMIN and VIEWER), so it proposes to rebuild
 * `team_members` through a `__temp_alter` copy. Such a rebuild is only waved through when it would
 * recreate the table with exactly the DDL SQLite already stores, and recreate only indexes that
 * already exist with exactly the same DDL: then it changes nothing. Any other statement is drift.
 */
async function schemaDrift(orm: MikroORM): Promise<string[]> {
  const statements = (await orm.schema.getUpdateSchemaSQL())
    .split(/;\s*\n/)
    .map((statement) => statement.trim().replace(/;$/, ""))
    .filter(Boolean);
  if (kind !== "sqlite") return statements;

  const stored = await sqliteMaster(orm);
  const storedSql = new Set(stored.values());
  const drift: string[] = [];
  for (let i = 0; i < statements.length; i++) {
    const statement = statements[i]!;
    if (/^pragma foreign_keys = (on|off)$/.test(statement)) continue;
    const rebuild = /^create table `(\w+)__temp_alter` (\(.*\))$/s.exec(statement);
    if (!rebuild) {
      drift.push(statement);
      continue;
    }
    const [, table, definition] = rebuild as unknown as [string, string, string];
    const expected = [
      `insert into \`${table}__temp_alter\` select `,
      `drop table \`${table}\``,
      `alter table \`${table}__temp_alter\` rename to \`${table}\``,
    ];
    const group = statements.slice(i + 1, i + 1 + expected.length);
    const sameTable = stored.get(table) === `create table \`${table}\` ${definition}`;
    const boilerplate = expected.every((prefix, k) => group[k]?.startsWith(prefix));
    let j = i + 1 + expected.length;
    const recreatedIndexes: string[] = [];
    while (j < statements.length && new RegExp(`^create (unique )?index \`\\w+\` on \`${table}\` `).test(statements[j]!)) {
      recreatedIndexes.push(statements[j]!);
      j++;
    }
    const sameIndexes = recreatedIndexes.every((index) => storedSql.has(index));
    if (sameTable && boilerplate && sameIndexes) {
      i = j - 1;
    } else {
      drift.push(statement);
    }
  }
  return drift;
}

describe(`migrations on ${kind}`, () => {
  it("migrate a fresh database to exactly the schema the entities describe", async () => {
    const db = await freshDatabase();
    const orm = await open(db.url);
    expect(await schemaDrift(orm)).toEqual([]);
  });

  it("the comparison sees a schema that differs from the entities", async () => {
    // Guards the test above: an unmigrated database, and a migrated one with a dropped index and a
    // stray column (which on SQLite makes a rebuild that is NOT the harmless one), are reported.
    const empty = await open((await freshDatabase()).url, false);
    expect((await schemaDrift(empty)).join("\n")).toMatch(/create table .audit_events./);

    const drifted = await open((await freshDatabase()).url);
    const connection = drifted.em.getConnection();
    await connection.execute("drop index users_project_id_index");
    await connection.execute("alter table team_members add column nickname text");
    const drift = (await schemaDrift(drifted)).join("\n");
    expect(drift).toMatch(/users_project_id_index/);
    expect(drift).toMatch(/team_members/);
  });

  it("record every migration once, and migrating again changes nothing", async () => {
    const db = await freshDatabase();
    const first = await open(db.url);
    const names = migrationsList.map((migration) => migration.name);
    expect((await first.getMigrator().getExecutedMigrations()).map((row) => row.name)).toEqual(names);
    expect(await first.getMigrator().getPendingMigrations()).toEqual([]);

    const second = await open(db.url);
    expect((await second.getMigrator().getExecutedMigrations()).map((row) => row.name)).toEqual(names);
  });

  it("both drivers carry the same migrations, so the data model stays one model", () => {
    expect(sqliteMigrations.map((migration) => migration.name)).toEqual(postgresqlMigrations.map((migration) => migration.name));
  });

  it.runIf(kind === "postgresql")("let instances starting at once migrate an empty database exactly once", async () => {
    // Each createOrm has its own connection pool, as separate instances would: a real race.
    const db = await freshDatabase();
    const instances = await Promise.allSettled(Array.from({ length: 4 }, () => createOrm({ databaseUrl: db.url })));
    for (const instance of instances) if (instance.status === "fulfilled") cleanups.push(() => instance.value.close(true));
    const failures = instances.flatMap((instance) => (instance.status === "rejected" ? [String(instance.reason)] : []));
    expect(failures).toEqual([]);

    const orm = (instances[0] as PromiseFulfilledResult<MikroORM>).value;
    const executed = await orm.getMigrator().getExecutedMigrations();
    expect(executed.map((row) => row.name)).toEqual(migrationsList.map((migration) => migration.name));
    expect(await schemaDrift(orm)).toEqual([]);
  });
});
