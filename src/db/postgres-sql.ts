import type { EntityManager } from "@mikro-orm/core";
import type { AbstractSqlConnection, Knex } from "@mikro-orm/knex";
import type { RowMapper } from "./row-mapper.js";
import { runTransaction } from "./run-transaction.js";
import type { Sql, Database, SqlRow, Tx, SqlValue } from "./database.js";
import { SqlBase } from "./sql-base.js";

type KnexTransaction = NonNullable<Parameters<AbstractSqlConnection["commit"]>[0]>;

/**
 * Hand-written statements on PostgreSQL, on MikroORM's connection pool, with every value sent as a
 * bound parameter (`?` becomes `$n`; knex's `raw` with bindings), never written into the SQL text.
 */
export class PostgresSqlDatabase implements Database {
  readonly kind = "postgresql" as const;
  readonly sql: Sql;
  private readonly connection: AbstractSqlConnection;
  private readonly log: StatementLog;

  constructor(
    em: EntityManager,
    private readonly rows: RowMapper,
  ) {
    this.connection = em.getConnection() as unknown as AbstractSqlConnection;
    // Statements go to MikroORM's query log like its own, when that log is on (statement-count tests).
    const logged = this.connection as unknown as { logQuery(query: string): void };
    this.log = em.config.get("debug") ? (text) => logged.logQuery(text) : null;
    this.sql = new PostgresSql(this.rows, this.connection, undefined, this.log);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return runTransaction(async (afterCommit) => {
      const transaction = await this.connection.begin();
      try {
        const result = await fn({ sql: new PostgresSql(this.rows, this.connection, transaction, this.log), afterCommit });
        await this.connection.commit(transaction);
        return result;
      } catch (error) {
        await this.connection.rollback(transaction).catch(() => undefined);
        throw error;
      }
    });
  }
}

type StatementLog = ((text: string) => void) | null;

class PostgresSql extends SqlBase {
  readonly kind = "postgresql" as const;
  constructor(
    rows: RowMapper,
    private readonly connection: AbstractSqlConnection,
    private readonly transaction: KnexTransaction | undefined,
    private readonly log: StatementLog,
  ) {
    super(rows);
  }

  async all<T = SqlRow>(text: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const result = await this.query(text, params);
    return result.rows as T[];
  }

  async run(text: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = await this.query(text, params);
    return result.rowCount ?? 0;
  }

  private query(text: string, params: readonly SqlValue[]): Promise<{ rows: unknown[]; rowCount: number | null }> {
    this.log?.(text);
    const query = (this.connection.getKnex() as Knex).raw(text, params.map(toPostgres) as Knex.RawBinding[]);
    if (this.transaction) query.transacting(this.transaction as unknown as Knex.Transaction);
    return query as unknown as Promise<{ rows: unknown[]; rowCount: number | null }>;
  }
}

function toPostgres(value: SqlValue): unknown {
  return value instanceof Date ? value.toISOString() : value;
}
