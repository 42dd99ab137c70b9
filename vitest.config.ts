import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { backendsEnvKey, describeCoverage, probeBackends } from "./test/harness/global-setup.js";

/** Needs two server processes sharing PostgreSQL and Redis: only in the PostgreSQL project. */
const multiInstanceTest = "test/multi-instance.test.ts";
/**
 * Runs a Redis of its own; what it tests does not depend on the database, and its second part needs
 * two instances on one PostgreSQL database: once, in the PostgreSQL project (in the SQLite project
 * when PostgreSQL is unreachable, so that it still runs).
 */
const redisOutageTest = "test/redis-outage.test.ts";

/**
 * `npm test` runs the whole suite twice: once on SQLite and once on PostgreSQL (one database per
 * test file). PostgreSQL and Redis are probed first. Locally, an unreachable one drops what needs
 * it and the run says so loudly at its start and its end; with CI set, it fails the run instead, so
 * a skipped backend never passes silently.
 */
export default defineConfig(async () => {
  const probe = await probeBackends();
  if (probe.ci && (!probe.postgres.reachable || !probe.redis.reachable)) {
    throw new Error(
      ["CI is set, and the suite must run on every backend, but:", ...describeCoverage(probe).filter((line) => line.includes("NOT RUN"))].join("\n"),
    );
  }
  process.env[backendsEnvKey] = JSON.stringify(probe);

  const projects = [
    {
      extends: true as const,
      test: {
        name: "sqlite",
        env: { TEST_DATABASE: "sqlite" },
        exclude: probe.postgres.reachable ? [multiInstanceTest, redisOutageTest] : [multiInstanceTest],
        // One banner per run, at its start and its end (the PostgreSQL project has none of its own).
        globalSetup: ["test/harness/global-setup.ts", "test/harness/build-client.ts"],
      },
    },
  ];
  if (probe.postgres.reachable) {
    projects.push({
      extends: true as const,
      test: {
        name: "postgresql",
        env: { TEST_DATABASE: "postgresql" },
        exclude: probe.redis.reachable ? [] : [multiInstanceTest],
        // Builds packages/client unless the SQLite project's setup already did in this run.
        globalSetup: ["test/harness/build-client.ts"],
      },
    });
  }

  return {
    resolve: {
      // graphql 16 ships both CJS and ESM builds; loading both breaks `instanceof` checks.
      alias: { graphql: "graphql/index.js" },
    },
    test: {
      include: ["test/**/*.test.ts"],
      pool: "forks",
      // Test files are mostly waiting on HTTP and the database, but servers, PostgreSQL and the
      // multi-instance test's child processes share the same cores: stay modest.
      maxWorkers: Math.max(2, Math.min(4, availableParallelism())),
      testTimeout: 30_000,
      hookTimeout: 60_000,
      setupFiles: ["reflect-metadata", "./test/harness/silent-logs.ts"],
      projects,
    },
  };
});
