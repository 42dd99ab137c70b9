import type { Sql, SqlValue } from "./database.js";

/**
 * The SQL text that differs between SQLite and PostgreSQL, each behind a function named for what it
 * does. Nothing outside `src/db/` writes a statement that depends on the database.
 */

/**
 * Takes a lock named `key` until the end of `sql`'s transaction, serialising the transactions that
 * take it across connections and instances: PostgreSQL's transaction-scoped advisory lock. SQLite
 * runs one writing transaction at a time already, so there it takes nothing. Taking it again in the
 * same transaction is free.
 */
export async function lockUntilCommit(sql: Sql, key: string): Promise<void> {
  if (sql.kind !== "postgresql") return;
  await sql.all("select pg_advisory_xact_lock(hashtext(?))", [key]);
}

/** An UPDATE of the rows a query picks, skipping those another writer holds; see `updatePickedRows`. */
export interface PickedRowsUpdate {
  /** Common table expressions the statement starts with (without the `with` keyword). */
  ctes: string;
  cteParams: readonly SqlValue[];
  table: string;
  /** A `select id …` of the rows to update (it may name the CTEs). */
  picked: string;
  /** What each picked row must still satisfy when it is updated (its own columns, unqualified). */
  stillMatches: string;
  stillMatchesParams: readonly SqlValue[];
  /** The SET list (its own columns, unqualified). */
  set: string;
  setParams: readonly SqlValue[];
}

/**
 * Updates the rows `picked` selects that still satisfy `stillMatches`, in one statement, and returns
 * their ids. On PostgreSQL the picked rows are locked `FOR UPDATE SKIP LOCKED` and re-checked, so
 * concurrent writers never wait on each other nor take the same row; SQLite runs one writer at a
 * time, so the plain conditional update is enough.
 */
export async function updatePickedRows(sql: Sql, update: PickedRowsUpdate): Promise<string[]> {
  const { ctes, table, picked, stillMatches, set } = update;
  const rows =
    sql.kind === "postgresql"
      ? await sql.all<{ id: string }>(
          `with ${ctes},
           locked as (
             select id from ${table}
             where id in (${picked}) and ${stillMatches}
             for update skip locked
           )
           update ${table} set ${set} from locked where ${table}.id = locked.id returning ${table}.id`,
          [...update.cteParams, ...update.stillMatchesParams, ...update.setParams],
        )
      : await sql.all<{ id: string }>(
          `with ${ctes}
           update ${table} set ${set}
           where id in (${picked}) and ${stillMatches}
           returning id`,
          [...update.cteParams, ...update.setParams, ...update.stillMatchesParams],
        );
  return rows.map((row) => row.id);
}

/**
 * Runs `select` and, on PostgreSQL, holds the rows it returns (`FOR SHARE`) until the transaction
 * ends: a concurrent UPDATE of them waits for this transaction, and this one sees a committed
 * UPDATE. Nothing is written (an `UPDATE ... SET x = x` would do the same with a new row version on
 * PostgreSQL and a page write on SQLite). SQLite runs one writing transaction at a time: there the
 * plain read inside the transaction is enough.
 */
export function selectHolding<T>(sql: Sql, select: string, params: readonly SqlValue[]): Promise<T[]> {
  return sql.all<T>(sql.kind === "postgresql" ? `${select} for share` : select, [...params]);
}
