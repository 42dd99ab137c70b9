import type { EntityManager } from "@mikro-orm/core";
import DataLoader from "dataloader";
import { User } from "./user.entity.js";

/** Per-request batch loader: one SELECT for all users a response mentions. */
export function createUserLoader(em: EntityManager): DataLoader<string, User | null> {
  return new DataLoader(async (ids) => {
    const rows = await em.find(User, { id: { $in: [...ids] } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
