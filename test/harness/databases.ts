import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/** The database the current vitest project runs on (`TEST_DATABASE`, set per project in vitest.config.ts). */
export function testDatabaseKind(): "sqlite" | "postgresql" {
  return process.env.TEST_DATABASE === "postgresql" ? "postgresql" : "sqlite";
}

/**
 * A fresh, empty database for one test file. SQLite by default (a temp file, so WAL applies);
 * `TEST_DATABASE=postgresql` gives each file its own PostgreSQL database instead.
 */
export async function freshDatabaseUrl(): Promise<FreshDatabase> {
  if (testDatabaseKind() === "postgresql") {
    const { createPostgresDatabase } = await import("./postgres.js");
    return createPostgresDatabase();
  }
  const dir = mkdtempSync(join(tmpdir(), "masquerade-db-"));
  return {
    url: `sqlite:${join(dir, "test.sqlite")}`,
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
