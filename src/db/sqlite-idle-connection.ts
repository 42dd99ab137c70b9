/**
 * knex's client for SQLite, as sqlite-sql.ts uses it: it hands out the process's one connection,
 * which a transaction holds until it ends.
 */
export interface SqliteConnectionPool<C> {
  acquireConnection(): Promise<C>;
  releaseConnection(connection: C): Promise<void>;
  /** The tarn pool behind it (absent once destroyed): knex's, not part of its API. */
  pool?: TarnPool<C>;
}

/** What `idleConnection` reads of tarn's pool; `free` is tarn's own, not part of its API. */
interface TarnPool<C> {
  numUsed(): number;
  numPendingAcquires(): number;
  free: Array<{ resource: C }>;
}

/**
 * The connection, when nobody holds it and nobody waits for it; otherwise null. A statement
 * outside any transaction runs on it directly: better-sqlite3 is synchronous, so nothing can take
 * the connection between this check and the statement's end, and a trip through the pool (a
 * promise and a timer per statement) buys nothing.
 *
 * The one place that reads knex's and tarn's private state (`client.pool`, `pool.free`):
 * test/sqlite-idle-connection.test.ts pins it, so that a knex or tarn whose insides have changed
 * fails that test instead of sending every statement the slow way (or worse).
 */
export function idleConnection<C extends { readonly inTransaction: boolean }>(client: SqliteConnectionPool<C>): C | null {
  const tarn = client.pool;
  if (!tarn || tarn.numUsed() !== 0 || tarn.numPendingAcquires() !== 0) return null;
  const connection = tarn.free[0]?.resource;
  return connection && !connection.inTransaction ? connection : null;
}
