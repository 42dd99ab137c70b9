import type DataLoader from "dataloader";
import { createByIdLoader } from "../../db/batch-loader.js";
import type { Database } from "../../db/database.js";
import type { User } from "./user.entity.js";
import { userRepository } from "./user.repository.js";

/** Per-request batch loader: one SELECT for all users a response mentions. */
export function createUserLoader(db: Database): DataLoader<string, User | null> {
  return createByIdLoader((ids) => userRepository.findByIds(db.sql, ids));
}
