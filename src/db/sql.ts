import type { EntityClass, EntityManager, IDatabaseDriver } from "@mikro-orm/core";
import type { DatabaseKind } from "./orm.js";
import { PostgresSqlDatabase } from "./postgres-sql.js";
import { RowMapper } from "./row-mapper.js";
import { SqliteSqlDatabase } from "./sqlite-sql.js";

export type SqlValue = string | number | boolean | Date | null;
export type SqlRow = Record<string, unknown>;

/**
 * Hand-written statements with bound parameters, for the paths every request takes (credentials,
 * sessions, tokens, the audit append). MikroORM builds and hydrates queries at several times the
 * cost of the query itself there; the rest of the code keeps using it. Placeholders are `?`.
 */
export interface Sql {
  all<T = SqlRow>(text: string, params?: readonly SqlValue[]): Promise<T[]>;
  one<T = SqlRow>(text: string, params?: readonly SqlValue[]): Promise<T | null>;
  /** Runs a write; returns how many rows it changed. */
  run(text: string, params?: readonly SqlValue[]): Promise<number>;
  /** The first row as an instance of `entity`, outside any unit of work (nothing writes it back). */
  entity<T extends object>(entity: EntityClass<T>, text: string, params?: readonly SqlValue[]): Promise<T | null>;
  entities<T extends object>(entity: EntityClass<T>, text: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Inserts every column of `value`. */
  insert<T extends object>(entity: EntityClass<T>, value: T): Promise<void>;
}

/** A running transaction: its statements, and work to do only once it has committed. */
export interface SqlTx {
  sql: Sql;
  afterCommit(fn: () => void | Promise<void>): void;
}

export interface SqlDatabase {
  readonly kind: DatabaseKind;
  /** Statements outside any transaction, each on its own. */
  readonly sql: Sql;
  /** The statements of `em`'s open transaction, or `sql` when it has none. */
  within(em: EntityManager): Sql;
  /** Runs `fn` in one transaction of its own; see `runTransaction` for retries and afterCommit. */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
}

const databases = new WeakMap<IDatabaseDriver, SqlDatabase>();

/** The SqlDatabase of the database `em` works on (one per MikroORM instance, made on first use). */
export function sqlDatabaseOf(em: EntityManager): SqlDatabase {
  const driver = em.getDriver();
  let database = databases.get(driver);
  if (!database) {
    const postgres = driver.constructor.name === "PostgreSqlDriver";
    const rows = new RowMapper(em.getMetadata());
    database = postgres ? new PostgresSqlDatabase(em, rows) : new SqliteSqlDatabase(em, rows);
    databases.set(driver, database);
  }
  return database;
}
