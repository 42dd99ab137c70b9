import type { EntityManager, EntityName } from "@mikro-orm/core";

/**
 * One row by a hand-written SELECT, mapped to a managed entity. For the few lookups every request
 * makes (credentials, a session by its token hash): MikroORM's query building costs several times
 * the query itself there. Parameters are always bound, never interpolated.
 */
export async function findOneBySql<T extends object>(em: EntityManager, entity: EntityName<T>, sql: string, params: unknown[]): Promise<T | null> {
  const rows = await em.getConnection().execute<Record<string, unknown>[]>(sql, params, "all", em.getTransactionContext());
  const row = rows[0];
  return row ? em.map(entity, row) : null;
}
