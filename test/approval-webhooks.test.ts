import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SafetyAuditEventAddedDocument } from "./__generated__/graphql.js";
import { gqlOk, type GraphQLResponse } from "./harness/client.js";
import { approve, deny, openRequest, requestIdOf, requestImpersonation, tokenFromRequest } from "./harness/approvals.js";
import { auditRows, expectCode, expectOk, newMember } from "./harness/core-operations.js";
import { createWorld, type Member, type World } from "./harness/fixtures.js";
import { freePort } from "./harness/own-redis.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { eventually, startWebhookReceiver, webhookOps, type DeliveryNode, type ReceivedWebhook, type WebhookReceiver } from "./harness/webhook-receiver.js";
import { connectWs, waitUntil } from "./harness/ws-client.js";

/**
 * SPEC §9: each approval step's webhook (dashboard.impersonation_request.create / .approve / .deny),
 * verified with `standardwebhooks`, carrying the event's mode and request id; failed steps send
 * none. Also the approval counter on /metrics, and the live subscription's new fields.
 */
const requestTypes = ["dashboard.impersonation_request.create", "dashboard.impersonation_request.approve", "dashboard.impersonation_request.deny"];

let t: TestApp;
let world: World;
let receiver: WebhookReceiver;
let approver: Member;
beforeAll(async () => {
  t = await startTestApp({ env: { WEBHOOK_POLL_INTERVAL_MS: "50", METRICS_PORT: String(await freePort()) } });
  world = await createWorld(t);
  receiver = await startWebhookReceiver();
  approver = await newMember(t, world, "ADMIN");
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

interface Body {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

async function createEndpoint(eventTypes: string[]) {
  return (await gqlOk(t.url, world.developer.credential, webhookOps.create, { input: { projectId: world.projectId, url: receiver.url, eventTypes } })).createWebhookEndpoint as {
    endpoint: { id: string };
    secret: string;
  };
}

async function deliveries(endpointId: string): Promise<DeliveryNode[]> {
  const data = await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, endpointId, first: 500 });
  return data.webhookDeliveries.edges.map((edge: { node: DeliveryNode }) => edge.node);
}

/** The requests that arrived for an endpoint's deliveries, verified with its secret. */
async function verifiedBodies(endpointId: string, secret: string): Promise<Body[]> {
  const ids = new Set((await deliveries(endpointId)).map((delivery) => delivery.id));
  const verifier = new Webhook(secret);
  return receiver
    .accepted()
    .filter((request) => ids.has(String(request.headers["webhook-id"])))
    .map((request: ReceivedWebhook) =>
      verifier.verify(request.body, {
        "webhook-id": String(request.headers["webhook-id"]),
        "webhook-timestamp": String(request.headers["webhook-timestamp"]),
        "webhook-signature": String(request.headers["webhook-signature"]),
      }) as Body,
    );
}

/** masquerade_approval_requests_total by outcome, scraped from METRICS_PORT. */
async function approvalCounts(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${t.app.metricsPort}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, outcome, value] of text.matchAll(/^masquerade_approval_requests_total\{outcome="([^"]+)"\} (\S+)$/gm)) counts[outcome!] = Number(value);
  return counts;
}

describe("approval webhooks", () => {
  it("sends each step's event type, signed, with the mode and the request id; failed steps send nothing", async () => {
    const all = await createEndpoint([...requestTypes, "dashboard.impersonation_token.create"]);
    const denials = await createEndpoint(["dashboard.impersonation_request.deny"]);
    const countsBefore = await approvalCounts();

    // Approved and used, READ_ONLY.
    const approved = await openRequest(t, world, world.supportManager, { mode: "READ_ONLY" });
    expectOk(await approve(t, approver.credential, approved.id));
    expectOk(await tokenFromRequest(t, world.supportManager.credential, approved));
    // Denied, in the default mode (READ_WRITE).
    const denied = await openRequest(t, world, world.developer);
    expectOk(await deny(t, approver.credential, denied.id, "Ask the customer first"));

    // Failed steps: each audited as a FAILURE, none sent.
    const ownRequest = await openRequest(t, world, world.admin);
    const failures: GraphQLResponse<unknown>[] = [
      await requestImpersonation(t, world, world.viewer.credential),
      await approve(t, world.admin.credential, approved.id),
      await deny(t, approver.credential, denied.id, "   "),
      await approve(t, world.admin.credential, ownRequest.id),
      await tokenFromRequest(t, world.supportManager.credential, approved),
    ];
    expect(failures.map((failure) => failure.errors?.[0]?.extensions?.code)).toEqual([
      "FORBIDDEN",
      "IMPERSONATION_REQUEST_ALREADY_DECIDED",
      "BAD_USER_INPUT",
      "FORBIDDEN",
      "IMPERSONATION_REQUEST_NOT_APPROVED",
    ]);

    // create, approve, token, create, deny, and ownRequest's create.
    await eventually(async () => (await deliveries(all.endpoint.id)).filter((d) => d.status === "SUCCEEDED").length >= 6, 10_000, "six deliveries");
    await eventually(async () => (await deliveries(denials.endpoint.id)).filter((d) => d.status === "SUCCEEDED").length >= 1, 10_000, "the denial's delivery");

    const bodies = await verifiedBodies(all.endpoint.id, all.secret);
    const summary = (body: Body) => [body.type, body.data.impersonationRequestId, body.data.mode, body.data.status];
    expect(bodies.map(summary).sort()).toEqual(
      [
        ["dashboard.impersonation_request.create", approved.id, "READ_ONLY", "SUCCESS"],
        ["dashboard.impersonation_request.approve", approved.id, "READ_ONLY", "SUCCESS"],
        ["dashboard.impersonation_token.create", approved.id, "READ_ONLY", "SUCCESS"],
        ["dashboard.impersonation_request.create", denied.id, "READ_WRITE", "SUCCESS"],
        ["dashboard.impersonation_request.deny", denied.id, "READ_WRITE", "SUCCESS"],
        ["dashboard.impersonation_request.create", ownRequest.id, "READ_WRITE", "SUCCESS"],
      ].sort(),
    );
    for (const body of bodies) {
      expect(body.data.eventType).toBe(body.type);
      expect(body.data.projectId).toBe(world.projectId);
      expect(body.data.userId).toBe(world.userId);
    }
    const byType = (type: string, id: string) => bodies.find((body) => body.type === type && body.data.impersonationRequestId === id)!.data;
    expect(byType("dashboard.impersonation_request.create", approved.id)).toMatchObject({
      action: "RequestImpersonation",
      impersonatorId: world.supportManager.id,
      actorId: world.supportManager.id,
      reason: approved.reason,
    });
    expect(byType("dashboard.impersonation_request.approve", approved.id)).toMatchObject({
      action: "ApproveImpersonationRequest",
      impersonatorId: world.supportManager.id,
      actorId: approver.id,
    });
    const denial = byType("dashboard.impersonation_request.deny", denied.id);
    expect(denial).toMatchObject({ action: "DenyImpersonationRequest", impersonatorId: world.developer.id, actorId: approver.id });
    expect(JSON.parse(denial.details as string)).toMatchObject({ denialReason: "Ask the customer first" });

    // The deny-only endpoint got the denial alone.
    expect((await verifiedBodies(denials.endpoint.id, denials.secret)).map((body) => [body.type, body.data.impersonationRequestId])).toEqual([
      ["dashboard.impersonation_request.deny", denied.id],
    ]);

    // The failures were audited, and none of their events has a delivery (the outbox is written with the event).
    const failureEvents = [];
    for (const failure of failures) failureEvents.push(...(await auditRows(t, "request_id = ? and status = ?", [requestIdOf(failure), "FAILURE"])));
    expect(failureEvents).toHaveLength(failures.length);
    const rows = [...(await deliveries(all.endpoint.id)), ...(await deliveries(denials.endpoint.id))];
    expect(rows).toHaveLength(7);
    const delivered = new Set(rows.map((d) => d.auditEventId));
    for (const event of failureEvents) expect(delivered.has(event.id)).toBe(false);

    // Metrics: the steps by outcome (refusals by the matrix itself never reach the approval service).
    const countsAfter = await approvalCounts();
    const moved = Object.fromEntries(Object.keys(countsAfter).map((outcome) => [outcome, countsAfter[outcome]! - (countsBefore[outcome] ?? 0)]).filter(([, n]) => n !== 0));
    expect(moved).toEqual({ requested: 3, approved: 1, denied: 1, IMPERSONATION_REQUEST_ALREADY_DECIDED: 1, BAD_USER_INPUT: 1, FORBIDDEN: 1 });
  });

  it("auditEventAdded carries the mode and the request id too", async () => {
    const connection = connectWs(t.wsUrl, world.viewer.credential);
    try {
      const before = t.app.services.auditQuery.listenerCount();
      const live = connection.subscribe(SafetyAuditEventAddedDocument, { projectId: world.projectId, filter: { actions: ["RequestImpersonation", "ApproveImpersonationRequest"] } });
      // Live once the server listens for it (the protocol has no acknowledgement).
      await waitUntil(() => t.app.services.auditQuery.listenerCount() > before || live.isEnded(), "the subscription is live");
      const request = await openRequest(t, world, world.supportManager, { mode: "READ_ONLY" });
      const first = await live.next(5_000);
      expect(first.data!.auditEventAdded.impersonationRequestId).toBe(request.id);
      expect(first.data!.auditEventAdded).toMatchObject({ action: "RequestImpersonation", status: "SUCCESS", mode: "READ_ONLY", impersonatorId: world.supportManager.id });

      expectOk(await approve(t, approver.credential, request.id));
      expect((await live.next(5_000)).data!.auditEventAdded).toMatchObject({ action: "ApproveImpersonationRequest", mode: "READ_ONLY", impersonationRequestId: request.id });
      expectCode(await approve(t, approver.credential, request.id), "IMPERSONATION_REQUEST_ALREADY_DECIDED");
      expect((await live.next(5_000)).data!.auditEventAdded).toMatchObject({ action: "ApproveImpersonationRequest", status: "FAILURE", mode: "READ_ONLY", impersonationRequestId: request.id });
    } finally {
      await connection.close();
    }
  });
});
