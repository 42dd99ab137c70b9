import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseOf } from "../src/db/database-of.js";
import { CreateImpersonationTokenDocument, RevokeSessionDocument, SetImpersonationPolicyDocument, type WebhookDeliveryStatus } from "./__generated__/graphql.js";
import { gql, gqlOk } from "./harness/client.js";
import { createWorld, issueToken, startSession, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { eventually, settle, startWebhookReceiver, webhookOps, type DeliveryNode, type ReceivedWebhook, type WebhookReceiver } from "./harness/webhook-receiver.js";

const allTypes = ["direct.user.impersonate", "direct.session.revoke", "dashboard.impersonation_token.create", "dashboard.impersonation_policy.update"];
const setPolicy = SetImpersonationPolicyDocument;
const revoke = RevokeSessionDocument;
const createToken = CreateImpersonationTokenDocument;

let t: TestApp;
let world: World;
let receiver: WebhookReceiver;

beforeAll(async () => {
  t = await startTestApp({ env: { WEBHOOK_POLL_INTERVAL_MS: "50", WEBHOOK_SECRET_OVERLAP_SECONDS: "60" } });
  world = await createWorld(t);
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

async function createEndpoint(eventTypes: string[], url = receiver.url, projectId = world.projectId) {
  const data = await gqlOk(t.url, world.developer.credential, webhookOps.create, { input: { projectId, url, eventTypes } });
  return data.createWebhookEndpoint as { endpoint: { id: string; url: string; eventTypes: string[]; enabled: boolean }; secret: string };
}

async function deliveries(args: { endpointId?: string; projectId?: string; status?: WebhookDeliveryStatus } = {}): Promise<DeliveryNode[]> {
  const data = await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: args.projectId ?? world.projectId, first: 500, ...args });
  return data.webhookDeliveries.edges.map((edge: { node: DeliveryNode }) => edge.node);
}

function headersOf(request: ReceivedWebhook): Record<string, string> {
  return {
    "webhook-id": String(request.headers["webhook-id"]),
    "webhook-timestamp": String(request.headers["webhook-timestamp"]),
    "webhook-signature": String(request.headers["webhook-signature"]),
  };
}

/** Requests that arrived for one endpoint, found by the webhook-ids of its deliveries. */
async function receivedFor(endpointId: string): Promise<ReceivedWebhook[]> {
  const ids = new Set((await deliveries({ endpointId })).map((d) => d.id));
  return receiver.requests.filter((r) => ids.has(String(r.headers["webhook-id"])));
}

describe("webhook delivery", () => {
  it("delivers each contract event type once, signed per Standard Webhooks", async () => {
    const { endpoint, secret } = await createEndpoint(allTypes);
    const start = receiver.requests.length;

    await gqlOk(t.url, world.admin.credential, setPolicy, { projectId: world.projectId, input: { tokenTtlSeconds: 600 } });
    const session = await startSession(t, world); // dashboard.impersonation_token.create + direct.user.impersonate
    await gqlOk(t.url, world.backend, revoke, { sessionId: session.session.id });
    await receiver.waitForRequests(start + 4);

    const received = receiver.requests.slice(start);
    const verifier = new Webhook(secret);
    const bodies = received.map((request) => verifier.verify(request.body, headersOf(request)) as { type: string; timestamp: string; data: Record<string, unknown> });
    expect(bodies.map((b) => b.type).sort()).toEqual([...allTypes].sort());
    for (const [i, body] of bodies.entries()) {
      expect(Object.keys(body).sort()).toEqual(["data", "timestamp", "type"]);
      expect(body.timestamp).toBe(new Date(body.timestamp).toISOString());
      expect(body.data.eventType).toBe(body.type);
      expect(body.data.status).toBe("SUCCESS");
      expect(body.data.projectId).toBe(world.projectId);
      expect(body.data.createdAt).toBe(body.timestamp);
      expect(received[i]!.headers["content-type"]).toMatch(/^application\/json/);
      expect(Number(received[i]!.headers["webhook-timestamp"])).toBe(Math.floor(t.clock.now().getTime() / 1000));
    }
    const impersonate = bodies.find((b) => b.type === "direct.user.impersonate")!;
    expect(impersonate.data).toMatchObject({ action: "AuthenticateImpersonationToken", userId: world.userId, sessionId: session.session.id });
    expect(impersonate.data.impersonatorId).toBe(world.supportManager.id);

    // A tampered body or a wrong secret does not verify.
    expect(() => verifier.verify(received[0]!.body.replace("SUCCESS", "FAILURE"), headersOf(received[0]!))).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`).verify(received[0]!.body, headersOf(received[0]!))).toThrow();

    // webhook-id is the delivery's id; each delivery succeeded on its first attempt.
    const rows = await deliveries({ endpointId: endpoint.id });
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(received.map((r) => String(r.headers["webhook-id"]))));
    await eventually(async () => (await deliveries({ endpointId: endpoint.id })).every((r) => r.status === "SUCCEEDED"), 10_000, "SUCCEEDED");
    for (const row of await deliveries({ endpointId: endpoint.id })) {
      expect(row).toMatchObject({ status: "SUCCEEDED", attemptCount: 1, nextAttemptAt: null, lastError: null });
      expect(row.attempts).toEqual([expect.objectContaining({ attemptNumber: 1, statusCode: 204, error: null, success: true })]);
    }
    await gqlOk(t.url, world.developer.credential, webhookOps.delete, { id: endpoint.id });
  });

  it("sends only subscribed, successful, non-no-op events of the endpoint's own project", async () => {
    const revokes = await createEndpoint(["direct.session.revoke"]);
    const tokens = await createEndpoint(["dashboard.impersonation_token.create"]);
    const others = await createEndpoint(allTypes, receiver.url, world.other.projectId);

    const session = await startSession(t, world);
    await gqlOk(t.url, world.backend, revoke, { sessionId: session.session.id });
    // Revoking it again succeeds but is a no-op: audited, and no second webhook.
    await gqlOk(t.url, world.backend, revoke, { sessionId: session.session.id });
    // Refused and failed calls are audited as FAILURE and never announced.
    const refused = await gql(t.url, world.viewer.credential, createToken, { input: { projectId: world.projectId, userId: world.userId, reason: "x" } });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const failed = await gql(t.url, world.admin.credential, setPolicy, { projectId: world.projectId, input: { tokenTtlSeconds: 5 } });
    expect(failed.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

    await eventually(async () => (await receivedFor(revokes.endpoint.id)).length >= 1 && (await receivedFor(tokens.endpoint.id)).length >= 1, 10_000, "deliveries");
    await settle();
    const revokeRows = await deliveries({ endpointId: revokes.endpoint.id });
    expect(revokeRows.map((r) => r.eventType)).toEqual(["direct.session.revoke"]);
    expect((await deliveries({ endpointId: tokens.endpoint.id })).map((r) => r.eventType)).toEqual(["dashboard.impersonation_token.create"]);
    expect(await deliveries({ projectId: world.other.projectId })).toEqual([]);

    const revokeBody = new Webhook(revokes.secret).verify((await receivedFor(revokes.endpoint.id))[0]!.body, headersOf((await receivedFor(revokes.endpoint.id))[0]!)) as {
      data: { details: string | null; sessionId: string };
    };
    expect(revokeBody.data.sessionId).toBe(session.session.id);
    expect(revokeBody.data.details ?? "").not.toContain("noop");

    // The other project's endpoint hears its own project's events.
    await gqlOk(t.url, world.admin.credential, setPolicy, { projectId: world.other.projectId, input: { tokenTtlSeconds: 120 } });
    const otherRows = await eventually(async () => {
      const rows = await deliveries({ projectId: world.other.projectId });
      return rows.length === 1 && rows[0]!.status === "SUCCEEDED" ? rows : null;
    }, 10_000, "other project's delivery");
    expect(otherRows[0]!.endpointId).toBe(others.endpoint.id);
    for (const e of [revokes, tokens, others]) await gqlOk(t.url, world.admin.credential, webhookOps.delete, { id: e.endpoint.id });
  });

  it("queues one delivery per session a kill switch revokes, in that transaction", async () => {
    const { endpoint } = await createEndpoint(["direct.session.revoke"]);
    const a = await startSession(t, world);
    const b = await startSession(t, world, world.developer);
    await gqlOk(t.url, world.admin.credential, setPolicy, { projectId: world.projectId, input: { allowImpersonation: false } });
    const rows = await eventually(async () => {
      const list = await deliveries({ endpointId: endpoint.id });
      return list.length === 2 && list.every((r) => r.status === "SUCCEEDED") ? list : null;
    }, 10_000, "two revoke deliveries");
    const sessions = (await receivedFor(endpoint.id)).map((r) => (JSON.parse(r.body) as { data: { sessionId: string } }).data.sessionId);
    expect(sessions.sort()).toEqual([a.session.id, b.session.id].sort());
    expect(rows).toHaveLength(2);
    await gqlOk(t.url, world.admin.credential, setPolicy, { projectId: world.projectId, input: { allowImpersonation: true } });
    await gqlOk(t.url, world.admin.credential, webhookOps.delete, { id: endpoint.id });
  });

  it("queues nothing for an event whose transaction rolls back", async () => {
    const { endpoint } = await createEndpoint(["dashboard.impersonation_token.create"]);
    const { endpoint: second } = await createEndpoint(["dashboard.impersonation_token.create"]);
    // The database refuses the event's second delivery row, after the outbox has written its first:
    // the whole transaction (token, event, first delivery) must roll back.
    const db = databaseOf(t.app.orm.em);
    await db.sql.run(db.kind === "sqlite" ? failSecondDeliverySqlite : failSecondDeliveryPostgres);
    try {
      const failed = await gql(t.url, world.supportManager.credential, createToken, {
        input: { projectId: world.projectId, userId: world.userId, reason: "roll this back" },
      });
      expect(failed.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    } finally {
      await db.sql.run("drop trigger fail_second_delivery" + (db.kind === "sqlite" ? "" : " on webhook_deliveries"));
    }
    await issueToken(t, world); // a committed one, to know the worker has caught up
    for (const id of [endpoint.id, second.id]) {
      const rows = await eventually(async () => {
        const list = await deliveries({ endpointId: id });
        return list.length >= 1 && list.every((d) => d.status === "SUCCEEDED") ? list : null;
      }, 10_000, "the committed event's delivery");
      expect(rows).toHaveLength(1);
    }
    await settle();
    for (const id of [endpoint.id, second.id]) {
      expect(await deliveries({ endpointId: id })).toHaveLength(1);
      const bodies = (await receivedFor(id)).map((r) => JSON.parse(r.body) as { data: { reason: string } });
      expect(bodies.map((b) => b.data.reason)).toEqual(["Customer reports a blank dashboard"]);
    }
    await gqlOk(t.url, world.admin.credential, webhookOps.delete, { id: endpoint.id });
    await gqlOk(t.url, world.admin.credential, webhookOps.delete, { id: second.id });
  });

  it("sends nothing to a disabled endpoint and resumes when it is enabled again", async () => {
    const { endpoint, secret } = await createEndpoint(["dashboard.impersonation_token.create"]);
    await gqlOk(t.url, world.developer.credential, webhookOps.update, { id: endpoint.id, input: { enabled: false } });
    await issueToken(t, world);
    await settle();
    expect(await deliveries({ endpointId: endpoint.id })).toEqual([]);
    expect(await receivedFor(endpoint.id)).toEqual([]);

    const updated = await gqlOk(t.url, world.developer.credential, webhookOps.update, { id: endpoint.id, input: { enabled: true } });
    expect(updated.updateWebhookEndpoint.enabled).toBe(true);
    await issueToken(t, world);
    const rows = await eventually(async () => {
      const list = await deliveries({ endpointId: endpoint.id });
      return list.length === 1 && list[0]!.status === "SUCCEEDED" ? list : null;
    }, 10_000, "delivery after re-enabling");
    const [request] = await receivedFor(endpoint.id);
    expect(new Webhook(secret).verify(request!.body, headersOf(request!))).toMatchObject({ type: "dashboard.impersonation_token.create" });
    expect(rows[0]!.attemptCount).toBe(1);
    await gqlOk(t.url, world.developer.credential, webhookOps.delete, { id: endpoint.id });
  });

  it("holds a pending delivery while its endpoint is disabled", async () => {
    const { endpoint } = await createEndpoint(["dashboard.impersonation_token.create"]);
    receiver.failAll(503);
    await issueToken(t, world);
    await eventually(async () => (await deliveries({ endpointId: endpoint.id }))[0]?.attemptCount === 1, 10_000, "first attempt");
    await gqlOk(t.url, world.developer.credential, webhookOps.update, { id: endpoint.id, input: { enabled: false } });
    receiver.recover();
    const before = receiver.requests.length;
    t.clock.advanceSeconds(120); // well past the first retry
    await settle();
    expect(receiver.requests.length).toBe(before);
    expect((await deliveries({ endpointId: endpoint.id }))[0]).toMatchObject({ status: "PENDING", attemptCount: 1 });

    await gqlOk(t.url, world.developer.credential, webhookOps.update, { id: endpoint.id, input: { enabled: true } });
    await eventually(async () => (await deliveries({ endpointId: endpoint.id }))[0]?.status === "SUCCEEDED", 10_000, "resumed delivery");
    const [row] = await deliveries({ endpointId: endpoint.id });
    expect(row!.attempts.map((a) => [a.attemptNumber, a.statusCode, a.success])).toEqual([
      [1, 503, false],
      [2, 204, true],
    ]);
    await gqlOk(t.url, world.developer.credential, webhookOps.delete, { id: endpoint.id });
  });

  it("signs with both secrets during a rotation's overlap, then with the new one only", async () => {
    const { endpoint, secret: oldSecret } = await createEndpoint(["dashboard.impersonation_token.create"]);
    const rotated = await gqlOk(t.url, world.admin.credential, webhookOps.rotate, { id: endpoint.id });
    const newSecret: string = rotated.rotateWebhookEndpointSecret.secret;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(new Date(rotated.rotateWebhookEndpointSecret.endpoint.previousSecretExpiresAt!).getTime()).toBe(t.clock.now().getTime() + 60_000);

    await issueToken(t, world);
    const [during] = await eventually(async () => {
      const list = await receivedFor(endpoint.id);
      return list.length === 1 ? list : null;
    }, 10_000, "delivery during overlap");
    const signatures = String(during!.headers["webhook-signature"]).split(" ");
    expect(signatures).toHaveLength(2);
    expect(signatures.every((s) => s.startsWith("v1,"))).toBe(true);
    // A receiver holding either secret accepts it.
    expect(new Webhook(oldSecret).verify(during!.body, headersOf(during!))).toBeTruthy();
    expect(new Webhook(newSecret).verify(during!.body, headersOf(during!))).toBeTruthy();

    t.clock.advanceSeconds(61);
    await issueToken(t, world);
    const after = await eventually(async () => {
      const list = await receivedFor(endpoint.id);
      return list.length === 2 ? list : null;
    }, 10_000, "delivery after overlap");
    const last = after.find((r) => r !== during)!;
    expect(String(last.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(new Webhook(newSecret).verify(last.body, headersOf(last))).toBeTruthy();
    expect(() => new Webhook(oldSecret).verify(last.body, headersOf(last))).toThrow();
    await gqlOk(t.url, world.admin.credential, webhookOps.delete, { id: endpoint.id });
  });
});

const failSecondDeliverySqlite = `create trigger fail_second_delivery before insert on webhook_deliveries
  when new.payload like '%roll this back%' and exists (select 1 from webhook_deliveries where audit_event_id = new.audit_event_id)
  begin select raise(abort, 'simulated failure after the outbox wrote'); end`;

const failSecondDeliveryPostgres = `create or replace function fail_second_delivery() returns trigger language plpgsql as $$
  begin
    if new.payload::text like '%roll this back%' and exists (select 1 from webhook_deliveries where audit_event_id = new.audit_event_id) then
      raise exception 'simulated failure after the outbox wrote';
    end if;
    return new;
  end $$;
  create trigger fail_second_delivery before insert on webhook_deliveries for each row execute function fail_second_delivery()`;
