import DataLoader from "dataloader";
import type { SqlDatabase } from "./sql.js";

/** Per-request batch loader of one entity by id: one SELECT for all the ids a response mentions. */
export function createByIdLoader<T extends { id: string }>(db: SqlDatabase, entity: new () => T, table: string): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const found = await db.sql.entities(entity, `select * from ${table} where id in (${ids.map(() => "?").join(", ")})`, ids);
    const byId = new Map(found.map((value) => [value.id, value]));
    return ids.map((id) => byId.get(id) ?? null);
  }, { maxBatchSize: 500 });
}
