import { randomBytes } from "node:crypto";
import type { FreshDatabase } from "./databases.js";
import { testPostgresUrl } from "./global-setup.js";

/**
 * The server the PostgreSQL suite runs against (TEST_POSTGRES_URL; trust auth on this machine and
 * in CI). Its database is only used to create and drop one database per test file.
 */
export const postgresAdminUrl = testPostgresUrl();

export async function createPostgresDatabase(): Promise<FreshDatabase> {
  const pg = (await import("pg")).default;
  const name = `masquerade_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: postgresAdminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
