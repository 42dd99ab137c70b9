import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventAddedDocument } from "./__generated__/graphql.js";
import { createWorld, issueToken, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { connectWs, waitUntil, type WsConnection } from "./harness/ws-client.js";

/**
 * A Redis of this file's own (never the shared one), stopped and started again under a running
 * server: what a real outage does to subscriptions.
 */
let port: number;
let redis: ChildProcess | null = null;
let t: TestApp;
let world: World;
const connections: WsConnection[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<void> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  await waitUntil(() => output.includes("Ready to accept connections"), "redis-server is ready", 10_000);
  redis = child;
}

async function stopRedis(): Promise<void> {
  const child = redis;
  redis = null;
  if (!child) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  t = await startTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  world = await createWorld(t);
}, 60_000);
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
  await t?.close();
  await stopRedis();
});

describe("a Redis outage", () => {
  it("keeps mutations working, and a subscription opened during it hears events once Redis is back", async () => {
    await stopRedis();
    // Longer than the ~10 s for which ioredis retries a command before giving up on it.
    const connection = connectWs(t.wsUrl, world.admin.credential);
    connections.push(connection);
    const subscription = connection.subscribe(AuditEventAddedDocument, { projectId: world.projectId });
    await issueToken(t, world, world.supportManager, "during the outage");
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(subscription.isEnded()).toBe(false);

    await startRedis();
    let heard = false;
    await waitUntil(
      async () => {
        await issueToken(t, world, world.supportManager, "after the outage");
        const result = await subscription.next(500).catch(() => null);
        heard = result?.data?.auditEventAdded.reason === "after the outage";
        return heard;
      },
      "the subscription opened during the outage hears an event committed after it",
      20_000,
    );
    expect(heard).toBe(true);
  }, 60_000);
});
