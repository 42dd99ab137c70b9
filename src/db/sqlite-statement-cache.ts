interface PreparingConnection {
  prepare(sql: string): unknown;
}

const maxCachedStatements = 500;

/**
 * knex prepares every statement anew on better-sqlite3, and compiling SQL is the largest single cost
 * of a small query there. This keeps the compiled statements of one connection, by their text, the
 * most recently used first. Safe because knex only ever calls `all()` or `run()` on them, which
 * finish before returning, and never changes a statement's mode.
 */
export function cachePreparedStatements(connection: PreparingConnection): void {
  const prepare = connection.prepare.bind(connection);
  const cache = new Map<string, unknown>();
  connection.prepare = (sql: string) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (cache.size >= maxCachedStatements) cache.delete(cache.keys().next().value as string);
    } else {
      cache.delete(sql);
    }
    cache.set(sql, statement);
    return statement;
  };
}
