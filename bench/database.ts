import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** A database of the benchmark's own, removed afterwards. */
export interface TempDatabase {
  url: string;
  describe: string;
  drop(): Promise<void>;
}

export async function createTempDatabase(kind: "sqlite" | "postgres", pgUrl: string): Promise<TempDatabase> {
  if (kind === "sqlite") {
    const dir = await mkdtemp(join(tmpdir(), "masquerade-bench-"));
    return {
      url: `sqlite:${join(dir, "bench.sqlite")}`,
      describe: "SQLite (temporary file, WAL)",
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const name = `masquerade_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    describe: `PostgreSQL (temporary database ${name})`,
    async drop() {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
