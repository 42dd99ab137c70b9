import { randomBytes } from "node:crypto";
import type { FreshDatabase } from "./databases.js";

/** The server the PostgreSQL suite runs against (trust auth on this machine and in CI). */
export const postgresAdminUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

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
