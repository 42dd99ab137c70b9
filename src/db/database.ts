import type { EntityClass } from "@mikro-orm/core";
import type { DatabaseKind } from "./orm.js";

export type SqlValue = string | number | boolean | Date | null;
export type SqlRow = Record<string, unknown>;
/** The entities `entityWithJoined` read, by alias. */
export type JoinedEntities<J> = { [K in keyof J]: J[K] extends EntityClass<infer E> ? E | null : never };

/**
 * Hand-written statements with `?` parameters (bound on SQLite; on PostgreSQL MikroORM's `execute`
 * inlines them, escaped with pg's escapeLiteral), for the paths every request takes (credentials,
 * sessions, tokens, the audit append). MikroORM builds and hydrates queries at several times the
 * cost of the query itself there; the rest of the code keeps using it. Placeholders are `?`.
 */
export interface Sql {
  /** Which database the statements run on (for `dialect.ts`, which writes what differs). */
  readonly kind: DatabaseKind;
  all<T = SqlRow>(text: string, params?: readonly SqlValue[]): Promise<T[]>;
  one<T = SqlRow>(text: string, params?: readonly SqlValue[]): Promise<T | null>;
  /** Runs a write; returns how many rows it changed. */
  run(text: string, params?: readonly SqlValue[]): Promise<number>;
  /** The first row as an instance of `entity`, outside any unit of work (nothing writes it back). */
  entity<T extends object>(entity: EntityClass<T>, text: string, params?: readonly SqlValue[]): Promise<T | null>;
  entities<T extends object>(entity: EntityClass<T>, text: string, params?: readonly SqlValue[]): Promise<T[]>;
  /**
   * The first row of a statement that joins other tables to `main`'s, as entities: `main` from its
   * own columns (`alias.*`), each of `joined` from the columns `joinedColumns(entity, alias)` lists,
   * keyed by that alias; a joined entity is null when its join found no row.
   */
  entityWithJoined<T extends object, J extends Record<string, EntityClass<object>>>(
    main: EntityClass<T>,
    joined: J,
    text: string,
    params?: readonly SqlValue[],
  ): Promise<{ main: T; joined: JoinedEntities<J> } | null>;
  /** `alias.column as alias__column, ...` for every column of `entity`, for `entityWithJoined`. */
  joinedColumns(entity: EntityClass<object>, alias: string): string;
  /** Inserts every column of `value`. */
  insert<T extends object>(entity: EntityClass<T>, value: T): Promise<void>;
}

/** A running transaction: its statements, and work to do only once it has committed. */
export interface Tx {
  sql: Sql;
  afterCommit(fn: () => void | Promise<void>): void;
}

/**
 * The one door to the database: statements outside any transaction (`sql`), and `transaction`, the
 * one transaction primitive (after-commit hooks, deadlock retry: see `runTransaction`).
 */
export interface Database {
  readonly kind: DatabaseKind;
  /** Statements outside any transaction, each on its own. */
  readonly sql: Sql;
  /** Runs `fn` in one transaction of its own; see `runTransaction` for retries and afterCommit. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

