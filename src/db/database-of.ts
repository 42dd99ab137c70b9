import type { EntityManager, IDatabaseDriver } from "@mikro-orm/core";
import type { Database } from "./database.js";
import { PostgresSqlDatabase } from "./postgres-sql.js";
import { RowMapper } from "./row-mapper.js";
import { SqliteSqlDatabase } from "./sqlite-sql.js";

const databases = new WeakMap<IDatabaseDriver, Database>();

/** The Database of the database `em` works on (one per MikroORM instance, made on first use). */
export function databaseOf(em: EntityManager): Database {
  const driver = em.getDriver();
  let database = databases.get(driver);
  if (!database) {
    const postgres = driver.constructor.name === "PostgreSqlDriver";
    const rows = new RowMapper(em.getMetadata());
    database = postgres ? new PostgresSqlDatabase(em, rows) : new SqliteSqlDatabase(em, rows);
    databases.set(driver, database);
  }
  return database;
}
