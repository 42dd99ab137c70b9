import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { logger } from "../src/log/logger.js";
import { CreateImpersonationTokenDocument } from "./__generated__/graphql.js";
import { loggedEventsAfter, receivedUntil, slimAuditEventAdded, untilLive, type OrderedEvent } from "./harness/audit-order.js";
import { gqlErrorCode } from "./harness/client.js";
import { testDatabaseKind } from "./harness/databases.js";
import { createWorld, type World } from "./harness/fixtures.js";
import { freePort, OwnRedis } from "./harness/own-redis.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { connectWs, waitUntil, type LiveSubscription, type WsConnection } from "./harness/ws-client.js";

/**
 * A Redis of this file's own (never the shared one), stopped, started again, or made to refuse new
 * connections under a running server: what a real outage does to subscriptions. Events whose
 * message Redis never carried reach subscribers anyway, read from the database.
 */
let port: number;
let redis: OwnRedis;
let admin: Redis | null = null;
let t: TestApp;
let world: World;
const connections: WsConnection[] = [];

function startRedis(): Promise<void> {
  return redis.start();
}

async function stopRedis(): Promise<void> {
  admin?.disconnect();
  admin = null;
  await redis?.stop();
}

/** A connection of the test's own to this Redis, for CONFIG and CLIENT commands. */
async function redisAdmin(): Promise<Redis> {
  if (!admin) {
    admin = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, connectionName: "test-admin" });
    await admin.connect();
  }
  return admin;
}

/**
 * Cuts connections off Redis for good, until `reopen`: a password that the server's connections do
 * not know is required from new connections (open ones stay authenticated), then `kill` drops the
 * chosen ones, which can no longer come back.
 */
async function cutOff(kill: string[]): Promise<{ reopen(): Promise<void> }> {
  const client = await redisAdmin();
  await client.config("SET", "requirepass", "only-the-test-knows");
  await client.call("CLIENT", "KILL", ...kill);
  return {
    async reopen() {
      await client.config("SET", "requirepass", "");
    },
  };
}

/** Redis client ids of the server's connections with this name (masquerade-publish, masquerade-subscribe). */
async function connectionIds(name: string): Promise<string[]> {
  const list = (await (await redisAdmin()).call("CLIENT", "LIST")) as string;
  return list
    .split("\n")
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
}

/** A refused createImpersonationToken by the VIEWER: one FAILURE event, committed on `app`. */
async function marker(reason: string, app: TestApp = t): Promise<void> {
  expect(await gqlErrorCode(app.url, world.viewer.credential, CreateImpersonationTokenDocument, { input: { projectId: world.projectId, userId: world.userId, reason } })).toBe("FORBIDDEN");
}

function subscribe(app: TestApp): LiveSubscription<{ auditEventAdded: OrderedEvent }> {
  const connection = connectWs(app.wsUrl, world.admin.credential);
  connections.push(connection);
  return connection.subscribe(slimAuditEventAdded, { projectId: world.projectId });
}

beforeAll(async () => {
  port = await freePort();
  redis = new OwnRedis(port);
  await startRedis();
  t = await startTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  world = await createWorld(t);
}, 60_000);
afterEach(async () => {
  // Whatever a test did to Redis, the next one starts with it running and open.
  if (!redis.running) await startRedis();
  await (await redisAdmin()).config("SET", "requirepass", "");
  vi.restoreAllMocks();
});
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
  await t?.close();
  await stopRedis();
});

describe("a Redis outage", () => {
  it("keeps mutations working; a subscription opened during it receives the events committed meanwhile once Redis is back", async () => {
    const logged = vi.spyOn(logger, "warn");
    const publishDropped = () => logged.mock.calls.some((call) => String(call[0]).includes("Redis unreachable"));
    await stopRedis();
    const subscription = subscribe(t);
    await waitUntil(() => t.app.services.auditQuery.listenerCount() === 1, "the subscription opened during the outage listens");
    await marker("during the outage");
    // ioredis queues a publish while it reconnects, and gives it up after 20 attempts (about ten
    // seconds): wait for that, so that Redis never carries this event.
    await waitUntil(publishDropped, "the publish of the event made during the outage is given up", 20_000);
    expect(subscription.isEnded()).toBe(false);

    await startRedis();
    expect((await receivedUntil(subscription, "during the outage")).map((event) => event.reason)).toEqual(["during the outage"]);
    await marker("after the outage");
    expect((await receivedUntil(subscription, "after the outage")).map((event) => event.reason)).toEqual(["after the outage"]);
  }, 60_000);

  it("gives a subscriber the events committed while its instance could not hear Redis, read from the database, once it hears again", async () => {
    const subscription = subscribe(t);
    const start = await untilLive(subscription, (reason) => marker(reason), "cut-off listener");

    // This instance's subscribing connection is dropped and cannot come back; its publishing one
    // still works, so Redis carries these events to nobody: they are lost to pub/sub for good.
    const cut = await cutOff(["TYPE", "pubsub"]);
    await marker("unheard 1");
    await marker("unheard 2");
    await cut.reopen();

    expect((await receivedUntil(subscription, "unheard 2")).map((event) => event.reason)).toEqual(["unheard 1", "unheard 2"]);
    await marker("heard again");
    expect((await receivedUntil(subscription, "heard again")).map((event) => event.reason)).toEqual(["heard again"]);
    const logged = await loggedEventsAfter(t.url, world.admin.credential, world.projectId, start.id);
    expect(logged.map((event) => event.reason)).toEqual(["unheard 1", "unheard 2", "heard again"]);
  }, 30_000);
});

describe.runIf(testDatabaseKind() === "postgresql")("an instance that cannot publish, next to one that can (PostgreSQL)", () => {
  it("fills the gap from the database: subscribers on both receive the lost event before the next one", async () => {
    const publisherIds = await connectionIds("masquerade-publish");
    expect(publisherIds, "the first instance's publishing connection").toHaveLength(1);
    const b = await startTestApp({ databaseUrl: t.databaseUrl, env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    try {
      const subscriptions = [subscribe(t), subscribe(b)];
      let start: OrderedEvent | null = null;
      for (const [index, subscription] of subscriptions.entries()) start = await untilLive(subscription, (reason) => marker(reason, index ? t : b), `subscriber ${index}`);

      // The first instance's publishing connection is dropped and cannot come back: the event it
      // commits never reaches Redis. The second instance's next event does, with a gap before it.
      const cut = await cutOff(["ID", publisherIds[0]!]);
      try {
        await marker("lost on the way", t);
        await marker("next, from the other instance", b);
        for (const subscription of subscriptions) {
          const received = await receivedUntil(subscription, "next, from the other instance");
          // The first subscriber still holds the second's warm-up events.
          expect(received.slice(received.findIndex((event) => event.id === start!.id) + 1).map((event) => event.reason)).toEqual([
            "lost on the way",
            "next, from the other instance",
          ]);
        }
      } finally {
        await cut.reopen();
      }
      // Back: nothing is delivered twice (the lost event's message, if ioredis still sends it, is dropped).
      await marker("after the gap", t);
      for (const subscription of subscriptions) {
        expect((await receivedUntil(subscription, "after the gap")).map((event) => event.reason)).toEqual(["after the gap"]);
      }
    } finally {
      await b.close();
    }
  }, 30_000);
});
