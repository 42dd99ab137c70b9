import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql 16 ships both CJS and ESM builds; loading both breaks `instanceof` checks.
    alias: { graphql: "graphql/index.js" },
  },
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ["reflect-metadata"],
  },
});
