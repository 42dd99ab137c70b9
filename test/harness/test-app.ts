import "reflect-metadata";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../../src/clock.js";
import { loadConfig, type Config } from "../../src/config.js";
import type { Logger } from "../../src/log/logger.js";
import { startApp, type App } from "../../src/server.js";
import { freshDatabaseUrl } from "./databases.js";

export interface TestApp {
  app: App;
  url: string;
  wsUrl: string;
  baseUrl: string;
  clock: FakeClock;
  config: Config;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  clock?: FakeClock;
  env?: Record<string, string>;
  onQuery?: (sql: string) => void;
  /** Reuse an existing database instead of a fresh one (restart tests). */
  databaseUrl?: string;
  /** The built staff console to serve at /console (built by buildConsole in test/harness/console-browser.ts). */
  consoleDirectory?: string;
  /** Where the server logs (e.g. a logger writing to an array); by default nowhere (LOG_LEVEL=silent). */
  logger?: Logger;
}

/** Starts the real server on a random port with a fresh database and a fake clock. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? new FakeClock(new Date());
  const fresh = options.databaseUrl ? null : await freshDatabaseUrl();
  const databaseUrl = options.databaseUrl ?? fresh!.url;
  const config = loadConfig({ PORT: "0", DATABASE_URL: databaseUrl, LOG_LEVEL: "silent", ...options.env });
  // LOG_LEVEL=silent above: tests that provoke failures on purpose print nothing.
  const app = await startApp({ config, clock, onQuery: options.onQuery, consoleDirectory: options.consoleDirectory, logger: options.logger });
  const baseUrl = `http://127.0.0.1:${app.port}`;
  return {
    app,
    url: app.url,
    wsUrl: app.wsUrl,
    baseUrl,
    clock,
    config,
    databaseUrl,
    async close() {
      await app.close();
      await fresh?.drop();
    },
  };
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = "masquerade-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
