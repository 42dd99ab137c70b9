import { logger } from "../log/logger.js";
import type { EntityManager } from "@mikro-orm/core";
import type { AbstractSqlConnection } from "@mikro-orm/knex";
import type { RowMapper } from "./row-mapper.js";
import { runTransaction } from "./run-transaction.js";
import { idleConnection, type SqliteConnectionPool } from "./sqlite-idle-connection.js";
import type { Sql, Database, SqlRow, Tx, SqlValue } from "./database.js";
import { SqlBase } from "./sql-base.js";

/** What we use of a better-sqlite3 connection (its `prepare` is cached: sqlite-statement-cache.ts). */
interface SqliteConnection {
  prepare(text: string): SqliteStatement;
  readonly inTransaction: boolean;
}

interface SqliteStatement {
  readonly reader: boolean;
  all(params: unknown[]): unknown[];
  run(params: unknown[]): { changes: number };
}

type ConnectionPool = SqliteConnectionPool<SqliteConnection>;

/**
 * Hand-written statements on better-sqlite3, run synchronously on the process's one connection.
 * Every use takes that connection from knex's pool, the one MikroORM's transactions hold too, so a
 * statement never lands inside someone else's open transaction.
 */
export class SqliteSqlDatabase implements Database {
  readonly kind = "sqlite" as const;
  readonly sql: Sql;
  private readonly pool: ConnectionPool;
  private readonly log: StatementLog;

  constructor(
    em: EntityManager,
    private readonly rows: RowMapper,
  ) {
    const connection = em.getConnection() as unknown as AbstractSqlConnection & { logQuery(query: string): void };
    this.pool = connection.getKnex().client as unknown as ConnectionPool;
    // Statements go to MikroORM's query log like its own, when that log is on (statement-count tests).
    this.log = em.config.get("debug") ? (text) => connection.logQuery(text) : null;
    this.sql = new SqliteSql(rows, this.log, async (work) => {
      const idle = idleConnection(this.pool);
      if (idle) return work(idle);
      const connection = await this.pool.acquireConnection();
      try {
        // Free and yet inside a transaction: one that failed to end. Joining it would commit or
        // roll back this statement with it; fail loudly instead.
        if (connection.inTransaction) throw new Error("the SQLite connection was left inside a transaction");
        return work(connection);
      } finally {
        await this.pool.releaseConnection(connection);
      }
    });
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return runTransaction(async (afterCommit) => {
      const connection = await this.pool.acquireConnection();
      let open = true;
      // The transaction's statements work only while it is open: one issued later (an afterCommit
      // callback, a statement nobody awaited) must not run on a connection it no longer holds.
      const sql = new SqliteSql(this.rows, this.log, async (work) => {
        if (!open) throw new Error("statement issued after its transaction ended");
        return work(connection);
      });
      try {
        execute(connection, "begin immediate", [], "run", this.log);
        try {
          const result = await fn({ sql, afterCommit });
          execute(connection, "commit", [], "run", this.log);
          return result;
        } catch (error) {
          rollbackQuietly(connection, this.log);
          throw error;
        }
      } finally {
        open = false;
        await this.pool.releaseConnection(connection);
      }
    });
  }
}

/** Rolls back what is still open; a rollback that fails is logged, never masks the error that caused it. */
function rollbackQuietly(connection: SqliteConnection, log: StatementLog): void {
  if (!connection.inTransaction) return;
  try {
    execute(connection, "rollback", [], "run", log);
  } catch (error) {
    logger.error({ err: error }, "SQLite rollback failed");
  }
}

type WithConnection = <R>(work: (connection: SqliteConnection) => R) => Promise<R>;

class SqliteSql extends SqlBase {
  readonly kind = "sqlite" as const;
  constructor(
    rows: RowMapper,
    private readonly log: StatementLog,
    private readonly withConnection: WithConnection,
  ) {
    super(rows);
  }

  all<T = SqlRow>(text: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.withConnection((connection) => execute(connection, text, params, "all", this.log) as T[]);
  }

  run(text: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.withConnection((connection) => execute(connection, text, params, "run", this.log) as number);
  }
}

type StatementLog = ((text: string) => void) | null;

function execute(connection: SqliteConnection, text: string, params: readonly SqlValue[], mode: "all" | "run", log: StatementLog): unknown[] | number {
  log?.(text);
  const statement = connection.prepare(text);
  const bound = params.map(toSqlite);
  if (statement.reader) return mode === "all" ? statement.all(bound) : statement.all(bound).length;
  const { changes } = statement.run(bound);
  return mode === "run" ? changes : [];
}

/** As MikroORM stores them: datetimes as epoch milliseconds, booleans as 0/1. */
function toSqlite(value: SqlValue): unknown {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}
