import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import { SetImpersonationPolicyDocument } from "./__generated__/graphql.js";
import { gqlOk } from "./harness/client.js";
import { createWorld, issueToken, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { eventually, settle, startWebhookReceiver, webhookOps, type DeliveryNode, type ReceivedWebhook, type WebhookReceiver } from "./harness/webhook-receiver.js";

const fast = { WEBHOOK_POLL_INTERVAL_MS: "50", WEBHOOK_RETRY_BASE_MS: "10000" };

const apps: TestApp[] = [];
const receivers: WebhookReceiver[] = [];
afterAll(async () => {
  // Later apps share the first one's database; the first closes last and drops it.
  for (const app of [...apps].reverse()) await app.close();
  for (const receiver of receivers) await receiver.close();
});

async function start(options: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
  const app = await startTestApp(options);
  apps.push(app);
  return app;
}

async function receiverStarted(): Promise<WebhookReceiver> {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  return receiver;
}

async function deliveries(t: TestApp, world: World, endpointId?: string): Promise<DeliveryNode[]> {
  const data = await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, endpointId, first: 500 });
  return data.webhookDeliveries.edges.map((edge: { node: DeliveryNode }) => edge.node);
}

function verify(secret: string, request: ReceivedWebhook): unknown {
  return new Webhook(secret).verify(request.body, {
    "webhook-id": String(request.headers["webhook-id"]),
    "webhook-timestamp": String(request.headers["webhook-timestamp"]),
    "webhook-signature": String(request.headers["webhook-signature"]),
  });
}

async function endpoint(t: TestApp, world: World, url: string, eventTypes: string[]) {
  const data = await gqlOk(t.url, world.developer.credential, webhookOps.create, { input: { projectId: world.projectId, url, eventTypes } });
  return data.createWebhookEndpoint as { endpoint: { id: string }; secret: string };
}

describe("the outbox survives restarts", () => {
  it("sends what an instance queued but never sent, after a restart on the same database", async () => {
    const receiver = await receiverStarted();
    const first = await start({ env: { ...fast, WEBHOOK_WORKER: "false" } });
    const world = await createWorld(first);
    const { endpoint: ep, secret } = await endpoint(first, world, receiver.url, ["dashboard.impersonation_token.create", "dashboard.impersonation_policy.update"]);
    await issueToken(first, world);
    await gqlOk(first.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { tokenTtlSeconds: 400 } });
    await settle();
    const queued = await deliveries(first, world, ep.id);
    expect(queued.map((d) => [d.status, d.attemptCount])).toEqual([
      ["PENDING", 0],
      ["PENDING", 0],
    ]);
    expect(receiver.requests).toEqual([]);
    await first.app.close();

    const second = await start({ databaseUrl: first.databaseUrl, env: fast });
    await receiver.waitForRequests(2);
    const bodies = receiver.requests.map((request) => verify(secret, request) as { type: string });
    expect(bodies.map((b) => b.type).sort()).toEqual(["dashboard.impersonation_policy.update", "dashboard.impersonation_token.create"]);
    expect(new Set(receiver.requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set(queued.map((d) => d.id)));
    await eventually(async () => (await deliveries(second, world, ep.id)).every((d) => d.status === "SUCCEEDED"), 10_000, "SUCCEEDED");
    await second.app.close();
  });

  it("resumes retries that were scheduled before a restart", async () => {
    const receiver = await receiverStarted();
    receiver.failAll(503);
    const first = await start({ env: fast });
    const world = await createWorld(first);
    const { endpoint: ep, secret } = await endpoint(first, world, receiver.url, ["dashboard.impersonation_token.create"]);
    await issueToken(first, world);
    const [pending] = await eventually(async () => {
      const list = await deliveries(first, world, ep.id);
      return list.length === 1 && list[0]!.attemptCount === 1 ? list : null;
    }, 10_000, "a failed first attempt");
    expect(pending!.status).toBe("PENDING");
    await first.app.close();

    receiver.recover();
    const second = await start({ databaseUrl: first.databaseUrl, clock: first.clock, env: fast });
    await settle();
    expect(receiver.requests).toHaveLength(1); // not due yet
    second.clock.set(pending!.nextAttemptAt!);
    await receiver.waitForRequests(2);
    expect(verify(secret, receiver.requests[1]!)).toMatchObject({ type: "dashboard.impersonation_token.create" });
    expect(receiver.requests[1]!.headers["webhook-id"]).toBe(pending!.id);
    const [done] = await eventually(async () => {
      const list = await deliveries(second, world, ep.id);
      return list[0]?.status === "SUCCEEDED" ? list : null;
    }, 10_000, "SUCCEEDED");
    expect(done!.attempts.map((a) => a.statusCode)).toEqual([503, 204]);
    await second.app.close();
  });

  it("never sends one delivery twice when two instances share the database", async () => {
    const receiver = await receiverStarted();
    const first = await start({ env: { ...fast, WEBHOOK_WORKER: "false" } });
    const world = await createWorld(first);
    await endpoint(first, world, receiver.url, ["dashboard.impersonation_policy.update"]);
    await endpoint(first, world, receiver.url, ["dashboard.impersonation_policy.update", "dashboard.impersonation_token.create"]);
    for (let i = 0; i < 15; i++) await gqlOk(first.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { tokenTtlSeconds: 300 + i } });
    expect(await deliveries(first, world)).toHaveLength(30);
    await first.app.close();

    // Two instances with workers race for the same 30 deliveries.
    const [b, c] = await Promise.all([
      start({ databaseUrl: first.databaseUrl, env: fast }),
      start({ databaseUrl: first.databaseUrl, env: fast }),
    ]);
    await receiver.waitForRequests(30, 15_000);
    await eventually(async () => (await deliveries(b, world)).every((d) => d.status === "SUCCEEDED"), 10_000, "all SUCCEEDED");
    await settle(500);
    const ids = receiver.requests.map((r) => String(r.headers["webhook-id"]));
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    for (const d of await deliveries(c, world)) expect(d.attempts).toHaveLength(1);
    await b.app.close();
    await c.app.close();
  });

  it("hands in-flight sends back when it shuts down, so the next instance sends them", async () => {
    const receiver = await receiverStarted();
    const first = await start({ env: fast });
    const world = await createWorld(first);
    const { endpoint: ep } = await endpoint(first, world, receiver.url, ["dashboard.impersonation_token.create"]);
    receiver.hang();
    await issueToken(first, world);
    await receiver.waitForRequests(1);
    await first.app.close(); // cuts the hanging send short
    const [released] = await (async () => {
      const probe = await start({ databaseUrl: first.databaseUrl, clock: first.clock, env: { ...fast, WEBHOOK_WORKER: "false" } });
      const list = await deliveries(probe, world, ep.id);
      await probe.app.close();
      return list;
    })();
    expect(released).toMatchObject({ status: "PENDING", attemptCount: 0, attempts: [] });

    receiver.recover();
    const second = await start({ databaseUrl: first.databaseUrl, clock: first.clock, env: fast });
    await receiver.waitForRequests(2);
    await eventually(async () => (await deliveries(second, world, ep.id))[0]?.status === "SUCCEEDED", 10_000, "SUCCEEDED");
    await second.app.close();
  });
});
