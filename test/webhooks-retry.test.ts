import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SetImpersonationPolicyDocument } from "./__generated__/graphql.js";
import { gqlErrorCode, gqlOk } from "./harness/client.js";
import { issueToken } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";
import { eventually, settle, startWebhookReceiver, webhookOps, type DeliveryNode, type ReceivedWebhook, type WebhookReceiver } from "./harness/webhook-receiver.js";

// Retries after 10 s, 20 s (±20 %); the third attempt is the last. Sends time out after 300 ms.
const env = { WEBHOOK_POLL_INTERVAL_MS: "50", WEBHOOK_RETRY_BASE_MS: "10000", WEBHOOK_MAX_ATTEMPTS: "3", WEBHOOK_TIMEOUT_MS: "300" };

let receiver: WebhookReceiver;
let endpointId: string;
let secret: string;

const { t, world } = useTestWorld({ app: { env } });

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  const data = await gqlOk(t.url, world.admin.credential, webhookOps.create, {
    input: { projectId: world.projectId, url: receiver.url, eventTypes: ["dashboard.impersonation_token.create"] },
  });
  endpointId = data.createWebhookEndpoint.endpoint.id;
  secret = data.createWebhookEndpoint.secret;
});
afterAll(async () => {
  await receiver?.close();
});

async function deliveries(args: Record<string, unknown> = {}): Promise<DeliveryNode[]> {
  const data = await gqlOk(t.url, world.developer.credential, webhookOps.deliveries, { projectId: world.projectId, endpointId, first: 500, ...args });
  return data.webhookDeliveries.edges.map((edge: { node: DeliveryNode }) => edge.node);
}

async function delivery(id: string): Promise<DeliveryNode> {
  return (await deliveries()).find((d) => d.id === id)!;
}

/** Creates a token (one event) and returns its delivery once its first attempt is recorded. */
async function newDelivery(): Promise<DeliveryNode> {
  const known = new Set((await deliveries()).map((d) => d.id));
  await issueToken(t, world);
  return eventually(async () => (await deliveries()).find((d) => !known.has(d.id) && d.attemptCount >= 1), 10_000, "a first attempt");
}

function verify(request: ReceivedWebhook) {
  return new Webhook(secret).verify(request.body, {
    "webhook-id": String(request.headers["webhook-id"]),
    "webhook-timestamp": String(request.headers["webhook-timestamp"]),
    "webhook-signature": String(request.headers["webhook-signature"]),
  });
}

function msUntil(at: string | null): number {
  return new Date(at!).getTime() - t.clock.now().getTime();
}

describe("webhook retries", () => {
  it("retries with exponential backoff and jitter, on the fake clock, with a stable webhook-id", async () => {
    receiver.failNext(2, 500);
    const start = receiver.requests.length;
    const first = await newDelivery();
    expect(first).toMatchObject({ status: "PENDING", attemptCount: 1, lastError: "HTTP 500" });
    expect(first.attempts).toEqual([expect.objectContaining({ attemptNumber: 1, statusCode: 500, error: "HTTP 500", success: false })]);
    const firstDelay = msUntil(first.nextAttemptAt);
    expect(firstDelay).toBeGreaterThanOrEqual(8000);
    expect(firstDelay).toBeLessThanOrEqual(12000);

    // Not before it is due.
    t.clock.advance(firstDelay - 1);
    await settle();
    expect(receiver.requests.length).toBe(start + 1);
    t.clock.advance(1);
    await receiver.waitForRequests(start + 2);
    const second = await eventually(async () => {
      const d = await delivery(first.id);
      return d.attemptCount === 2 ? d : null;
    }, 10_000, "second attempt recorded");
    const secondDelay = msUntil(second.nextAttemptAt);
    expect(secondDelay).toBeGreaterThanOrEqual(16000);
    expect(secondDelay).toBeLessThanOrEqual(24000);

    t.clock.advance(secondDelay);
    await receiver.waitForRequests(start + 3);
    const done = await eventually(async () => {
      const d = await delivery(first.id);
      return d.status === "SUCCEEDED" ? d : null;
    }, 10_000, "SUCCEEDED");
    expect(done).toMatchObject({ attemptCount: 3, nextAttemptAt: null, lastError: null });
    expect(done.completedAt).not.toBeNull();
    expect(done.attempts.map((a) => [a.attemptNumber, a.statusCode, a.success])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 204, true],
    ]);
    for (const attempt of done.attempts) expect(attempt.durationMs).toBeGreaterThanOrEqual(0);

    // The same message each time: one webhook-id and body, freshly timestamped and signed.
    const sent = receiver.requests.slice(start, start + 3);
    expect(new Set(sent.map((r) => r.headers["webhook-id"]))).toEqual(new Set([first.id]));
    expect(new Set(sent.map((r) => r.body)).size).toBe(1);
    expect(new Set(sent.map((r) => r.headers["webhook-timestamp"])).size).toBe(3);
    for (const request of sent) expect(verify(request)).toMatchObject({ type: "dashboard.impersonation_token.create" });
  });

  it("gives up after the last attempt and re-queues on retryWebhookDelivery", async () => {
    receiver.failAll(502);
    const failing = await newDelivery();
    t.clock.advance(msUntil(failing.nextAttemptAt));
    await eventually(async () => (await delivery(failing.id)).attemptCount === 2, 10_000, "attempt 2");
    t.clock.advance(msUntil((await delivery(failing.id)).nextAttemptAt));
    const failed = await eventually(async () => {
      const d = await delivery(failing.id);
      return d.status === "FAILED" ? d : null;
    }, 10_000, "FAILED");
    expect(failed).toMatchObject({ attemptCount: 3, nextAttemptAt: null, lastError: "HTTP 502" });
    expect(failed.attempts.map((a) => a.statusCode)).toEqual([502, 502, 502]);
    expect((await deliveries({ status: "FAILED" })).map((d) => d.id)).toContain(failing.id);

    // Nothing more is sent for a FAILED delivery, however long we wait.
    const sent = receiver.requests.length;
    t.clock.advanceSeconds(3600);
    await settle();
    expect(receiver.requests.length).toBe(sent);

    // Only ADMIN and DEVELOPER may retry; only a FAILED delivery can be.
    expect(await gqlErrorCode(t.url, world.supportManager.credential, webhookOps.retry, { id: failing.id })).toBe("FORBIDDEN");
    receiver.recover();
    const requeued = await gqlOk(t.url, world.developer.credential, webhookOps.retry, { id: failing.id });
    expect(requeued.retryWebhookDelivery).toMatchObject({ id: failing.id, status: "PENDING", attemptCount: 3 });
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.retry, { id: failing.id })).toBe("BAD_USER_INPUT");
    const delivered = await eventually(async () => {
      const d = await delivery(failing.id);
      return d.status === "SUCCEEDED" ? d : null;
    }, 10_000, "SUCCEEDED after retry");
    expect(delivered.attempts.map((a) => [a.attemptNumber, a.success])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.retry, { id: failing.id })).toBe("BAD_USER_INPUT");
    // The fake clock is an hour ahead of real time now, beyond a verifier's 5-minute window: check
    // the signature itself with the library's signer.
    const last = receiver.requests[receiver.requests.length - 1]!;
    const timestamp = Number(last.headers["webhook-timestamp"]);
    expect(timestamp).toBe(Math.floor(t.clock.now().getTime() / 1000));
    expect(String(last.headers["webhook-signature"]).split(" ")).toEqual([new Webhook(secret).sign(failing.id, new Date(timestamp * 1000), last.body)]);
  });

  it("a manual retry that fails again goes straight back to FAILED", async () => {
    receiver.failAll(500);
    const failing = await newDelivery();
    for (const n of [2, 3]) {
      t.clock.advance(msUntil((await delivery(failing.id)).nextAttemptAt));
      await eventually(async () => (await delivery(failing.id)).attemptCount === n, 10_000, `attempt ${n}`);
    }
    await eventually(async () => (await delivery(failing.id)).status === "FAILED", 10_000, "FAILED");
    await gqlOk(t.url, world.admin.credential, webhookOps.retry, { id: failing.id });
    const again = await eventually(async () => {
      const d = await delivery(failing.id);
      return d.attemptCount === 4 ? d : null;
    }, 10_000, "the manual attempt");
    expect(again).toMatchObject({ status: "FAILED", lastError: "HTTP 500" });
    receiver.recover();
  });

  it("times out a receiver that does not answer and records the error", async () => {
    receiver.hang();
    const hung = await newDelivery();
    expect(hung).toMatchObject({ status: "PENDING", attemptCount: 1 });
    expect(hung.attempts[0]).toMatchObject({ statusCode: null, success: false, error: "timed out after 300 ms" });
    expect(hung.attempts[0]!.durationMs).toBeGreaterThanOrEqual(250);
    receiver.recover();
    t.clock.advance(msUntil(hung.nextAttemptAt));
    await eventually(async () => (await delivery(hung.id)).status === "SUCCEEDED", 10_000, "SUCCEEDED after timeout");
  });

  it("records connection errors when the receiver is gone", async () => {
    const gone = await startWebhookReceiver();
    await gone.close();
    const created = await gqlOk(t.url, world.admin.credential, webhookOps.create, {
      input: { projectId: world.projectId, url: gone.url, eventTypes: ["dashboard.impersonation_policy.update"] },
    });
    const id = created.createWebhookEndpoint.endpoint.id;
    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { tokenTtlSeconds: 301 } });
    const row = await eventually(async () => {
      const data = await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, endpointId: id });
      const node = data.webhookDeliveries.edges[0]?.node as DeliveryNode | undefined;
      return node && node.attemptCount === 1 ? node : null;
    }, 10_000, "a failed connection attempt");
    expect(row.attempts[0]).toMatchObject({ statusCode: null, success: false });
    expect(row.attempts[0]!.error).toMatch(/ECONNREFUSED/);
    await gqlOk(t.url, world.admin.credential, webhookOps.delete, { id });
  });

  it("pages and filters deliveries, newest first", async () => {
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000);
      await newDelivery();
    }
    const all = await deliveries();
    expect(all.length).toBeGreaterThanOrEqual(7);
    const times = all.map((d) => new Date(d.createdAt).getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const data: { webhookDeliveries: { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
        await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, endpointId, first: 2, after });
      const page = data.webhookDeliveries;
      seen.push(...page.edges.map((e) => e.node.id));
      expect(page.edges.length).toBeLessThanOrEqual(2);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.map((d) => d.id));

    const failed = await deliveries({ status: "FAILED" });
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((d) => d.status === "FAILED")).toBe(true);
    const succeeded = await deliveries({ status: "SUCCEEDED" });
    expect(succeeded.length + failed.length + (await deliveries({ status: "PENDING" })).length).toBe(all.length);
    // Another project's deliveries are not in this project's log, and vice versa.
    const other = await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.other.projectId, endpointId });
    expect(other.webhookDeliveries.edges).toEqual([]);
  });
});
