import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TypenameDocument } from "./__generated__/graphql.js";
import { buildIntoTempDir } from "./harness/build.js";
import { freshDatabaseUrl, type FreshDatabase } from "./harness/databases.js";
import { waitUntil, within } from "./harness/ws-client.js";

/**
 * `npm start` as an operator runs it: the built server in a process of its own, stopped with a real
 * SIGTERM (in-process tests call close() and never see the signal handlers).
 */
let build: Awaited<ReturnType<typeof buildIntoTempDir>> | undefined;
let database: FreshDatabase;

beforeAll(async () => {
  build = await buildIntoTempDir("masquerade-signal-build-", join("src", "main.js"));
  database = await freshDatabaseUrl();
}, 120_000);
afterAll(async () => {
  await database?.drop();
  build?.remove();
});

/** Starts the server on a free port; resolves once it says where it listens. */
function startServer(): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  // Not NODE_ENV=test (vitest's): Apollo installs its own signal handlers only outside tests.
  const child = spawn(process.execPath, [build!.entry], {
    env: { ...process.env, NODE_ENV: "development", PORT: "0", DATABASE_URL: database.url, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 60_000);
    const poll = setInterval(() => {
      const port = /listening on http:\/\/localhost:(\d+)/.exec(output)?.[1];
      if (port) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve({ child, port: Number(port), output: () => output });
      }
    }, 50);
    child.once("exit", (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${output}`));
    });
  });
}

describe("SIGTERM", () => {
  it("lets a request whose body is still arriving finish, then exits cleanly", async () => {
    const { child, port, output } = await startServer();
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    const body = JSON.stringify({ query: print(TypenameDocument) });
    const socket = connect(port, "127.0.0.1");
    let response = "";
    socket.on("data", (chunk: Buffer) => (response += chunk.toString("utf8")));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    // `Expect: 100-continue`: the server answers "100 Continue" once its request handler has the
    // request, so the signal below provably arrives while the request is in flight.
    socket.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`);
    socket.write(body.slice(0, 5));
    await waitUntil(() => response.includes("HTTP/1.1 100 Continue\r\n\r\n"), "the server takes the request (100 Continue)", 15_000);

    const draining = waitUntil(() => output().includes("Received SIGTERM; finishing in-flight requests..."), "the server starts draining", 15_000);
    child.kill("SIGTERM");
    await draining;
    socket.write(body.slice(5));
    await within(closed, 15_000, "the server answers and closes the connection");

    const [interim, final] = [response.slice(0, response.indexOf("\r\n\r\n") + 4), response.slice(response.indexOf("\r\n\r\n") + 4)];
    expect(interim).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    expect(final.split("\r\n")[0], response).toBe("HTTP/1.1 200 OK");
    expect(final).toContain('{"data":{"__typename":"Query"}}');
    expect(await exited).toBe(0);
    expect(output()).toContain("Stopped cleanly.");
    expect(output()).not.toMatch(/unexpected error|Internal server error/i);
  }, 60_000);
});
