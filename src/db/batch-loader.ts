import DataLoader from "dataloader";
import type { Database } from "./database.js";

/** Per-request batch loader of one entity by id: one SELECT for all the ids a response mentions. */
export function createByIdLoader<T extends { id: string }>(db: Database, entity: new () => T, table: string): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    // Padded to a power of two (repeating the last id), so that batches of any size share a few
    // statement texts and do not crowd the hot paths out of the prepared-statement cache.
    const padded = [...ids];
    while (padded.length & (padded.length - 1)) padded.push(ids[ids.length - 1]!);
    const found = await db.sql.entities(entity, `select * from ${table} where id in (${padded.map(() => "?").join(", ")})`, padded);
    const byId = new Map(found.map((value) => [value.id, value]));
    return ids.map((id) => byId.get(id) ?? null);
  }, { maxBatchSize: 500 });
}
