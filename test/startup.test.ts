import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrm } from "../src/db/orm.js";
import { SettingError } from "../src/errors/setting-error.js";
import { createRedisPubSub } from "../src/pubsub/redis-pubsub.js";
import { buildIntoTempDir } from "./harness/build.js";
import { freshDatabaseUrl, type FreshDatabase } from "./harness/databases.js";
import { tempDir } from "./harness/test-app.js";

/**
 * SPEC §3: a setting the server cannot start with stops it with one line on stderr that names the
 * variable, no stack trace, and a non-zero exit. Each case is `npm start`'s process, with one bad
 * setting on top of a good environment (a database migrated beforehand, so that the cases that get
 * as far as the database do not race to migrate it).
 */
let build: Awaited<ReturnType<typeof buildIntoTempDir>> | undefined;
let database: FreshDatabase;
let scratch: ReturnType<typeof tempDir>;
let heldPort: Server;

beforeAll(async () => {
  build = await buildIntoTempDir("masquerade-startup-build-", join("src", "main.js"));
  database = await freshDatabaseUrl();
  await (await createOrm({ databaseUrl: database.url })).close(true);
  scratch = tempDir("masquerade-startup-");
  // Held the way the server listens (every interface), so that the server cannot have it.
  heldPort = createServer();
  await new Promise<void>((resolve) => heldPort.listen(0, resolve));
}, 120_000);
afterAll(async () => {
  heldPort?.close();
  scratch?.remove();
  await database?.drop();
  build?.remove();
});

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** Runs the built server with `settings` over a good environment; resolves when it exits. */
function runServer(settings: Record<string, string>): Promise<Exit> {
  const child = spawn(process.execPath, [build!.entry], {
    env: { PATH: process.env.PATH, PORT: "0", DATABASE_URL: database.url, ...settings },
    stdio: ["ignore", "pipe", "pipe"],
    // A server that starts instead of failing would run for ever; the case then fails on its exit
    // code. Generous: alone, a case exits within about 3 s, but the suite shares its cores.
    timeout: 60_000,
    killSignal: "SIGKILL",
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stderr, stdout })));
}

function expectOneLineNaming(exit: Exit, variable: string): string {
  expect(exit.code, exit.stderr).toBe(1);
  expect(exit.stderr).not.toContain("    at ");
  const lines = exit.stderr.trimEnd().split("\n");
  expect(lines, exit.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^Masquerade cannot start: ${variable} `));
  expect(exit.stdout).toBe("");
  return lines[0]!;
}

describe.concurrent("a setting the server cannot start with: one line naming it, exit 1", { timeout: 90_000 }, () => {
  it.each([
    ["MAX_BODY_BYTES", "1mb", /plain digits, without a unit/],
    ["MAX_BODY_BYTES", "abc", /whole number from 1024 to/],
    ["PORT", "abc", /whole number from 0 to 65535/],
    ["PORT", "70000", /whole number from 0 to 65535/],
    ["LOG_LEVEL", "loud", /one of fatal, error, warn, info, debug, trace, silent/],
    ["NODE_ENV", "prod", /one of production, development, test/],
    ["WEBHOOK_WORKER", "no", /"true" or "false"/],
    ["WEBHOOK_ALLOW_PRIVATE_URLS", "1", /"true" or "false"/],
    ["PUBLIC_URL", "masquerade.example.com", /http:\/\/ or https:\/\//],
    ["REDIS_URL", "localhost:6379", /redis:\/\/ or rediss:\/\//],
    ["DATABASE_URL", "mysql://x", /"sqlite:<path>" or a "postgres:\/\/"/],
    ["CORS_ORIGINS", "app.example.com", /comma-separated list of origins/],
    ["CORS_ORIGINS", "https://app.example.com/login", /entry 1 has a path/],
    ["TRUST_PROXY", "true", /must not be true/],
    ["METRICS_PORT", "0", /whole number from 1 to 65535/],
  ])("%s=%s", async (variable, value, rule) => {
    const line = expectOneLineNaming(await runServer({ [variable]: value }), variable);
    expect(line).toMatch(rule);
  });

  it("an unreachable PostgreSQL names DATABASE_URL, without its password", async () => {
    const line = expectOneLineNaming(await runServer({ DATABASE_URL: "postgres://postgres:secretpw@127.0.0.1:1/x" }), "DATABASE_URL");
    expect(line).toContain("postgres://postgres:***@127.0.0.1:1/x cannot be reached: connect ECONNREFUSED");
    expect(line).not.toContain("secretpw");
  });

  it("an unreachable Redis names REDIS_URL, without its password", async () => {
    const line = expectOneLineNaming(await runServer({ REDIS_URL: "redis://:secretpw@127.0.0.1:1" }), "REDIS_URL");
    expect(line).toContain("redis://:***@127.0.0.1:1 cannot be reached: connect ECONNREFUSED");
    expect(line).not.toContain("secretpw");
  });

  it("a port in use names PORT once (not again as a WebSocket server error)", async () => {
    const port = (heldPort.address() as AddressInfo).port;
    const line = expectOneLineNaming(await runServer({ PORT: String(port) }), "PORT");
    expect(line).toBe(`Masquerade cannot start: PORT ${port} is already in use`);
  });

  it("a METRICS_PORT equal to PORT, or in use, names METRICS_PORT", async () => {
    expect(expectOneLineNaming(await runServer({ PORT: "4999", METRICS_PORT: "4999" }), "METRICS_PORT")).toMatch(/must differ from PORT/);
    const port = (heldPort.address() as AddressInfo).port;
    expect(expectOneLineNaming(await runServer({ METRICS_PORT: String(port) }), "METRICS_PORT")).toBe(`Masquerade cannot start: METRICS_PORT ${port} is already in use`);
  });

  it("an AUDIT_LOG_FILE in a directory that does not exist names AUDIT_LOG_FILE", async () => {
    const line = expectOneLineNaming(await runServer({ AUDIT_LOG_FILE: "/nonexistent-dir/x.ndjson" }), "AUDIT_LOG_FILE");
    expect(line).toContain("its directory does not exist");
  });

  it("an AUDIT_LOG_FILE that is a directory names AUDIT_LOG_FILE", async () => {
    const line = expectOneLineNaming(await runServer({ AUDIT_LOG_FILE: scratch.path }), "AUDIT_LOG_FILE");
    expect(line).toContain("it is a directory");
  });

  it("PORT=0 announces the port it got, which answers, and is the default PUBLIC_URL", async () => {
    const child = spawn(process.execPath, [build!.entry], {
      env: { PATH: process.env.PATH, PORT: "0", DATABASE_URL: database.url, AUDIT_LOG_FILE: "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
        const match = /ready at http:\/\/localhost:(\d+)\/graphql/.exec(stderr);
        if (match) resolve(match);
      });
      void exited.then((code) => reject(new Error(`the server exited (${code}) before it was ready:\n${stderr}`)));
    });
    const port = Number(ready[1]);
    expect(port).toBeGreaterThan(0);
    expect(stderr).toContain(`listening on http://localhost:${port}/graphql`);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

describe("a REDIS_URL whose server accepts connections and never answers", () => {
  it("is given up after the connect timeout, naming REDIS_URL (ioredis alone would wait for ever)", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const failure = await createRedisPubSub(`redis://:secretpw@127.0.0.1:${port}`, { connectTimeoutMs: 300 }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SettingError);
      expect((failure as Error).message).toBe(`REDIS_URL redis://:***@127.0.0.1:${port} cannot be reached: no answer within 0.3 s`);
      expect(sockets.size).toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
