import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { SetImpersonationPolicyDocument } from "./__generated__/graphql.js";
import { gqlOk } from "./harness/client.js";
import { issueToken } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";
import { eventually, startWebhookReceiver, webhookOps, type DeliveryNode, type WebhookReceiver } from "./harness/webhook-receiver.js";

// A send times out after 60 s: a worker that waited for a whole batch before claiming more would
// hold every other delivery for that long, far beyond these tests' own timeouts.
const env = { WEBHOOK_POLL_INTERVAL_MS: "50", WEBHOOK_TIMEOUT_MS: "60000" };
/** The worker's limits per endpoint and per project (README, "Delivery, retries and restarts"). */
const perEndpoint = 4;
const perProject = 16;

const receivers: Array<{ close(): Promise<void> }> = [];

const { t, world } = useTestWorld({ app: { env } });
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
});

async function receiver(): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver();
  receivers.push(started);
  return started;
}

async function createEndpoint(projectId: string, url: string, eventTypes: string[]): Promise<string> {
  const data = await gqlOk(t.url, world.developer.credential, webhookOps.create, { input: { projectId, url, eventTypes } });
  return data.createWebhookEndpoint.endpoint.id as string;
}

async function deliveries(projectId: string, endpointId: string): Promise<DeliveryNode[]> {
  const data = await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId, endpointId, first: 500 });
  return data.webhookDeliveries.edges.map((edge: { node: DeliveryNode }) => edge.node);
}

/** `count` token events in project A, a few at a time. */
async function queueTokenEvents(count: number, reason: string): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => issueToken(t, world, world.supportManager, `${reason} ${i + j}`)));
  }
}

/** Disables an endpoint so later tests' events do not queue for it (its pending deliveries stay). */
async function retire(endpointId: string): Promise<void> {
  await gqlOk(t.url, world.developer.credential, webhookOps.update, { id: endpointId, input: { enabled: false } });
}

describe("webhook fairness", () => {
  it("delivers to other endpoints and projects while one receiver never answers", async () => {
    const hanging = await receiver();
    const healthyB = await receiver();
    const healthyA = await receiver();
    hanging.hang();
    const stuck = await createEndpoint(world.projectId, hanging.url, ["dashboard.impersonation_token.create"]);
    const otherProject = await createEndpoint(world.other.projectId, healthyB.url, ["dashboard.impersonation_policy.update"]);
    const sameProject = await createEndpoint(world.projectId, healthyA.url, ["dashboard.impersonation_policy.update"]);

    // More than a whole batch of the old worker for the receiver that never answers.
    await queueTokenEvents(30, "stuck");
    await hanging.waitForRequests(1);
    t.clock.advance(1000); // the next deliveries are strictly younger than the stuck ones

    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.other.projectId, input: { tokenTtlSeconds: 500 } });
    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { tokenTtlSeconds: 500 } });
    const [toB] = await healthyB.waitForRequests(1, 10_000);
    const [toA] = await healthyA.waitForRequests(1, 10_000);
    expect(JSON.parse(toB!.body)).toMatchObject({ type: "dashboard.impersonation_policy.update", data: { projectId: world.other.projectId } });
    expect(JSON.parse(toA!.body)).toMatchObject({ type: "dashboard.impersonation_policy.update", data: { projectId: world.projectId } });

    // The hanging receiver holds only its own endpoint's few sends; the rest wait their turn.
    await hanging.waitForRequests(perEndpoint);
    expect(hanging.requests).toHaveLength(perEndpoint);
    const held = await deliveries(world.projectId, stuck);
    expect(held).toHaveLength(30);
    expect(held.every((d) => d.status === "PENDING" && d.attemptCount === 0)).toBe(true);
    await eventually(async () => (await deliveries(world.other.projectId, otherProject))[0]?.status === "SUCCEEDED", 10_000, "B's delivery recorded");
    await eventually(async () => (await deliveries(world.projectId, sameProject))[0]?.status === "SUCCEEDED", 10_000, "A's second endpoint's delivery recorded");
    for (const id of [stuck, otherProject, sameProject]) await retire(id);
  }, 25_000);

  it("does not let a backlog of 200 deliveries to a slow endpoint starve a fast endpoint", async () => {
    const slow = await slowReceiver(1000);
    const fast = await receiver();
    const backlogged = await createEndpoint(world.projectId, slow.url, ["dashboard.impersonation_token.create"]);
    await queueTokenEvents(200, "backlog");
    const fastEndpoint = await createEndpoint(world.projectId, fast.url, ["dashboard.impersonation_policy.update"]);
    t.clock.advance(1000); // the fast endpoint's delivery is younger than the whole backlog

    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { tokenTtlSeconds: 700 } });
    const sentBefore = slow.arrivals;
    await fast.waitForRequests(1, 10_000);
    // Each slow send takes a second; the fast delivery went out within one send's worth of time,
    // while the backlog was still almost whole.
    expect(slow.arrivals - sentBefore).toBeLessThanOrEqual(perEndpoint);
    expect(slow.arrivals).toBeLessThan(100);
    expect(slow.mostAtOnce).toBeLessThanOrEqual(perEndpoint);
    expect((await deliveries(world.projectId, fastEndpoint))).toHaveLength(1);
    const pending = (await deliveries(world.projectId, backlogged)).filter((d) => d.status === "PENDING");
    expect(pending.length).toBeGreaterThan(100);
    for (const id of [backlogged, fastEndpoint]) await retire(id);
  }, 45_000);

  it("holds a project's sends to its limit however many of its endpoints never answer", async () => {
    const hanging = await receiver();
    const healthy = await receiver();
    hanging.hang();
    const stuck: string[] = [];
    for (let i = 0; i < 5; i++) stuck.push(await createEndpoint(world.other.projectId, `${hanging.url}?endpoint=${i}`, ["dashboard.impersonation_policy.update"]));
    const elsewhere = await createEndpoint(world.projectId, healthy.url, ["dashboard.impersonation_token.create"]);
    // 5 events to 5 endpoints: 25 deliveries, 20 of them within the per-endpoint limit.
    for (let i = 0; i < 5; i++) await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.other.projectId, input: { tokenTtlSeconds: 400 + i } });
    await hanging.waitForRequests(perProject);
    t.clock.advance(1000);

    await issueToken(t, world);
    await healthy.waitForRequests(1, 10_000);
    expect(hanging.requests).toHaveLength(perProject);
    for (const id of [...stuck, elsewhere]) await retire(id);
  }, 25_000);
});

/** A receiver that answers 204 to each request `delayMs` after it arrives; counts arrivals and concurrency. */
async function slowReceiver(delayMs: number) {
  let inFlight = 0;
  const state = { arrivals: 0, mostAtOnce: 0 };
  const pending = new Set<{ timer: NodeJS.Timeout; res: ServerResponse }>();
  const server: Server = createServer((req, res) => {
    state.arrivals++;
    inFlight++;
    state.mostAtOnce = Math.max(state.mostAtOnce, inFlight);
    req.resume();
    const entry = {
      res,
      timer: setTimeout(() => {
        pending.delete(entry);
        inFlight--;
        res.writeHead(204).end();
      }, delayMs),
    };
    pending.add(entry);
    res.on("close", () => {
      if (pending.delete(entry)) {
        clearTimeout(entry.timer);
        inFlight--;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    get arrivals() {
      return state.arrivals;
    },
    get mostAtOnce() {
      return state.mostAtOnce;
    },
    async close() {
      for (const entry of pending) clearTimeout(entry.timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  receivers.push(receiver);
  return receiver;
}
