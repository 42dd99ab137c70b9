import type { Sql } from "../../db/database.js";
import { SigningKey } from "./signing-key.entity.js";

/** Every statement on `signing_keys`. */
export const signingKeyRepository = {
  /** Every key, oldest first. */
  findAll(sql: Sql): Promise<SigningKey[]> {
    return sql.entities(SigningKey, "select * from signing_keys order by created_at asc");
  },

  /** Whether any key is not retired (nor due to retire). */
  async hasUnretired(sql: Sql): Promise<boolean> {
    return (await sql.one("select 1 as found from signing_keys where retired_at is null limit 1")) !== null;
  },

  /** Sets the retirement time of every key that has none. */
  retireUnretired(sql: Sql, at: Date): Promise<number> {
    return sql.run("update signing_keys set retired_at = ? where retired_at is null", [at]);
  },

  insert(sql: Sql, key: SigningKey): Promise<void> {
    return sql.insert(SigningKey, key);
  },
};
