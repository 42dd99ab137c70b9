import type { EntityManager } from "@mikro-orm/core";
import type { AbstractSqlConnection } from "@mikro-orm/knex";
import type { RowMapper } from "./row-mapper.js";
import { runTransaction } from "./run-transaction.js";
import type { Sql, SqlDatabase, SqlRow, SqlTx, SqlValue } from "./sql.js";
import { SqlBase } from "./sql-base.js";

type KnexTransaction = NonNullable<Parameters<AbstractSqlConnection["commit"]>[0]>;

/** Hand-written statements on PostgreSQL, through MikroORM's connection (and its pool). */
export class PostgresSqlDatabase implements SqlDatabase {
  readonly kind = "postgresql" as const;
  readonly sql: Sql;
  private readonly connection: AbstractSqlConnection;

  constructor(
    em: EntityManager,
    private readonly rows: RowMapper,
  ) {
    this.connection = em.getConnection() as unknown as AbstractSqlConnection;
    this.sql = new PostgresSql(this.rows, this.connection, undefined);
  }

  within(em: EntityManager): Sql {
    const transaction = em.getTransactionContext<KnexTransaction>();
    return transaction ? new PostgresSql(this.rows, this.connection, transaction) : this.sql;
  }

  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return runTransaction(async (afterCommit) => {
      const transaction = await this.connection.begin();
      try {
        const result = await fn({ sql: new PostgresSql(this.rows, this.connection, transaction), afterCommit });
        await this.connection.commit(transaction);
        return result;
      } catch (error) {
        await this.connection.rollback(transaction).catch(() => undefined);
        throw error;
      }
    });
  }
}

class PostgresSql extends SqlBase {
  constructor(
    rows: RowMapper,
    private readonly connection: AbstractSqlConnection,
    private readonly transaction: KnexTransaction | undefined,
  ) {
    super(rows);
  }

  all<T = SqlRow>(text: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.connection.execute<T[]>(text, params.map(toPostgres), "all", this.transaction);
  }

  async run(text: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = await this.connection.execute<{ affectedRows: number }>(text, params.map(toPostgres), "run", this.transaction);
    return result.affectedRows;
  }
}

function toPostgres(value: SqlValue): unknown {
  return value instanceof Date ? value.toISOString() : value;
}
