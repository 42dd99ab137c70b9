import type { MikroORM, Options } from "@mikro-orm/core";
import type { AbstractSqlConnection } from "@mikro-orm/knex";
import { Migrator } from "@mikro-orm/migrations";
import { SettingError, redactUrl } from "../errors/setting-error.js";
import { parseDatabaseUrl, type DatabaseKind, type DatabaseTarget } from "./database-url.js";
import { entities } from "./entities.js";
import { cachePreparedStatements } from "./sqlite-statement-cache.js";
import { postgresqlMigrations } from "../../migrations/postgresql/index.js";
import { sqliteMigrations } from "../../migrations/sqlite/index.js";

export { parseDatabaseUrl, type DatabaseKind, type DatabaseTarget } from "./database-url.js";

export interface OrmOptions {
  databaseUrl: string;
  /** Called with each SQL statement MikroORM runs (for statement-count tests). */
  onQuery?: (sql: string) => void;
  /** Run pending migrations after connecting (the default). */
  migrate?: boolean;
}

const postgresConnectTimeoutMs = 10_000;

/** Connects to the database DATABASE_URL names; the only place that imports a driver package. */
export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  const target = parseDatabaseUrl(options.databaseUrl);
  const common: Options = {
    entities,
    connect: false,
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    extensions: [Migrator],
    debug: options.onQuery ? ["query"] : false,
    logger: options.onQuery ? (message: string) => options.onQuery!(message) : () => undefined,
    colors: false,
  };
  const orm = await initOrm(target, common);
  try {
    await orm.connect();
  } catch (error) {
    await orm.close(true).catch(() => undefined);
    throw new SettingError("DATABASE_URL", `${describeTarget(target)} cannot be ${target.kind === "sqlite" ? "opened" : "reached"}: ${connectionFailure(error)}`);
  }
  if (options.migrate !== false) {
    if (target.kind === "postgresql") await withPostgresMigrationLock(orm, () => orm.getMigrator().up());
    else await orm.getMigrator().up();
  }
  return orm;
}

/**
 * MikroORM.init for the target's driver, not yet connected: a failure to connect is the operator's
 * (DATABASE_URL), any other failure of init is a bug and keeps its stack.
 */
async function initOrm(target: DatabaseTarget, common: Options): Promise<MikroORM> {
  if (target.kind === "sqlite") {
    const { MikroORM: SqliteOrm } = await import("@mikro-orm/better-sqlite");
    return await SqliteOrm.init({
      ...common,
      dbName: target.location,
      migrations: { migrationsList: sqliteMigrations, transactional: true, allOrNothing: true, snapshot: false },
      pool: {
        min: 1,
        max: 1,
        // WAL: readers never block the writer and a process crash loses nothing committed.
        afterCreate: (conn: { exec(sql: string): void; prepare(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          try {
            cachePreparedStatements(conn);
            conn.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
            done(null, conn);
          } catch (error) {
            done(error as Error, conn);
          }
        },
      },
    } as Options);
  } else {
    const { MikroORM: PostgresOrm } = await import("@mikro-orm/postgresql");
    return await PostgresOrm.init({
      ...common,
      clientUrl: target.location,
      migrations: { migrationsList: postgresqlMigrations, transactional: true, allOrNothing: true, snapshot: false },
      pool: { min: 0, max: 10 },
      // pg waits for the operating system's TCP timeout (minutes) by default: bound the start-up.
      driverOptions: { connection: { connectionTimeoutMillis: postgresConnectTimeoutMs } },
    } as Options);
  }
}

/**
 * Every instance migrates at start, and instances often start together. MikroORM's migrator takes
 * no lock: two of them on one empty PostgreSQL database both create the tables, and the loser
 * fails ("duplicate key value violates unique constraint pg_type_typname_nsp_index"). A
 * transaction-scoped advisory lock, held on one pooled connection while the migrator works on
 * others, makes them take turns; the next one then finds nothing pending. PostgreSQL releases the
 * lock when that transaction ends, also if the process dies mid-way.
 */
async function withPostgresMigrationLock<T>(orm: MikroORM, fn: () => Promise<T>): Promise<T> {
  const connection = orm.config.getDriver().getConnection() as unknown as AbstractSqlConnection;
  const lock = await connection.begin();
  try {
    await connection.execute("select pg_advisory_xact_lock(hashtext('masquerade:migrations'))", [], "run", lock);
    const result = await fn();
    await connection.commit(lock);
    return result;
  } catch (error) {
    await connection.rollback(lock).catch(() => undefined);
    throw error;
  }
}

/** DATABASE_URL as a message may show it: without the password of a PostgreSQL URL. */
function describeTarget(target: DatabaseTarget): string {
  return target.kind === "sqlite" ? `sqlite:${target.location}` : redactUrl(target.location);
}

/** The driver's reason (e.g. "connect ECONNREFUSED 127.0.0.1:5432", "password authentication failed for user ..."). */
function connectionFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message || (error as { code?: string }).code || error.name;
}

export function databaseKind(orm: MikroORM): DatabaseKind {
  return orm.config.getDriver().constructor.name === "PostgreSqlDriver" ? "postgresql" : "sqlite";
}
