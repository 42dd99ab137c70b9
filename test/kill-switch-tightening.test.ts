import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticateSessionModeDocument,
  SetSafetyPolicyDocument,
  UpdateUserDocument,
  type ImpersonationMode,
  type ImpersonationPolicyInput,
} from "./__generated__/graphql.js";
import { approve, createModeToken, exchange, expectAuditLogValid, openRequest, outcomes, requestIdOf, tally, tokenFromRequest } from "./harness/approvals.js";
import { gql, gqlOk, type Credential, type GraphQLResponse } from "./harness/client.js";
import { auditRows, countRows, expectCode, expectOk, newUser, sql, type AuditRow } from "./harness/core-operations.js";
import { createWorld, type Member, type World } from "./harness/fixtures.js";
import { freePort } from "./harness/own-redis.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { webhookOps } from "./harness/webhook-receiver.js";

/**
 * A policy change that tightens applies to running sessions (README, Safety policies): turning
 * read-write off, requiring approval for all, and protecting a user each revoke, in the change's own
 * transaction, exactly the active sessions the new rule would not start, each audited as a
 * RevokeSession with its cause, sent as a webhook and counted; every other session keeps refreshing.
 * Unused tokens are refused at their exchange. Through the real endpoint, on the vitest project's database.
 */

let t: TestApp;
let world: World;
let endpointId: string;
beforeAll(async () => {
  // No delivery worker: each revocation's webhook delivery stays queued, to be counted.
  t = await startTestApp({ env: { METRICS_PORT: String(await freePort()), WEBHOOK_WORKER: "false" } });
  world = await createWorld(t);
  const created = await gqlOk(t.url, world.admin.credential, webhookOps.create, {
    input: { projectId: world.projectId, url: "http://127.0.0.1:9/hooks", eventTypes: ["direct.session.revoke"] },
  });
  endpointId = created.createWebhookEndpoint.endpoint.id;
}, 60_000);
afterAll(async () => {
  await t?.close();
});

interface Running {
  id: string;
  sessionToken: string;
  mode: ImpersonationMode;
  backend: Credential;
}

/** A session of `member` on `userId` (the world's user by default), started without an approval. */
async function start(member: Member, options: { userId?: string; mode?: ImpersonationMode; other?: boolean } = {}): Promise<Running> {
  const projectId = options.other ? world.other.projectId : world.projectId;
  const backend = options.other ? world.other.backend : world.backend;
  const userId = options.userId ?? (options.other ? world.other.userId : world.userId);
  const { token } = expectOk(await createModeToken(t, member.credential, { projectId, userId, mode: options.mode })).createImpersonationToken;
  const started = expectOk(await exchange(t, backend, token)).authenticateImpersonationToken;
  return { id: started.session.id, sessionToken: started.sessionToken, mode: started.session.mode, backend };
}

/** A session started from a request `requester` made and the world's ADMIN approved. */
async function startApproved(userId: string, requester: Member = world.supportManager, mode?: ImpersonationMode): Promise<Running> {
  const request = await openRequest(t, world, requester, { userId, mode });
  expectOk(await approve(t, world.admin.credential, request.id));
  const { token } = expectOk(await tokenFromRequest(t, requester.credential, request)).createImpersonationToken;
  const started = expectOk(await exchange(t, world.backend, token)).authenticateImpersonationToken;
  return { id: started.session.id, sessionToken: started.sessionToken, mode: started.session.mode, backend: world.backend };
}

const refresh = (session: Running) => gql(t.url, session.backend, AuthenticateSessionModeDocument, { sessionToken: session.sessionToken });

function policy(input: ImpersonationPolicyInput) {
  return gql(t.url, world.admin.credential, SetSafetyPolicyDocument, { projectId: world.projectId, input });
}

/**
 * Back to the world's policy with nothing running in its project: turning impersonation off and on
 * (the older kill switch) revokes every session and voids every token, so that each test counts only
 * the sessions it started.
 */
async function reset(): Promise<void> {
  expectOk(await policy({ allowImpersonation: false }));
  expectOk(await policy({ allowImpersonation: true, allowReadWrite: true, defaultMode: "READ_WRITE", requireApproval: "PROTECTED_USERS" }));
}

function protect(userId: string, value = true) {
  return gql(t.url, world.admin.credential, UpdateUserDocument, { projectId: world.projectId, id: userId, input: { protected: value } });
}

/** Still running: refreshes with a fresh JWT of its mode, and no RevokeSession event names it. */
async function expectRunning(sessions: Running[]): Promise<void> {
  for (const session of sessions) {
    const refreshed = expectOk(await refresh(session)).authenticateSession;
    expect(decodeJwt(refreshed.sessionJwt).imp).toEqual({ mode: session.mode === "READ_WRITE" ? "read_write" : "read_only" });
    expect(await auditRows(t, "action = ? and session_id = ?", ["RevokeSession", session.id]), `RevokeSession events of ${session.id}`).toHaveLength(0);
  }
}

/**
 * The change (`response`, of `action`) revoked exactly `sessions` of the project, in its own
 * transaction: its call's events are one SUCCESS RevokeSession per session, with `cause`, then its
 * own event, consecutive in the project's chain; each revoked session refuses to refresh, and each
 * revocation has its webhook delivery queued.
 */
async function expectRevokedBy(response: GraphQLResponse<unknown>, action: string, sessions: Running[], cause: string): Promise<AuditRow> {
  const requestId = requestIdOf(response);
  const events = await auditRows(t, "request_id = ?", [requestId]);
  expect(events.map((event) => event.action)).toEqual([...sessions.map(() => "RevokeSession"), action]);
  const seqs = await sqlSeqs(requestId);
  expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  const revocations = events.slice(0, -1);
  expect(revocations.map((event) => event.session_id).sort()).toEqual(sessions.map((session) => session.id).sort());
  for (const event of revocations) {
    expect(event).toMatchObject({ status: "SUCCESS", event_type: "direct.session.revoke", project_id: world.projectId, actor_type: "member" });
    expect(JSON.parse(event.details!)).toEqual({ cause });
  }
  for (const session of sessions) expectCode(await refresh(session), "SESSION_REVOKED");

  const deliveries = (await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, endpointId, first: 100 })).webhookDeliveries.edges;
  const delivered = new Set(deliveries.map((edge) => edge.node.auditEventId));
  for (const event of revocations) expect(delivered.has(event.id), `webhook delivery of ${event.id}`).toBe(true);
  return events.at(-1)!;
}

async function sqlSeqs(requestId: string): Promise<number[]> {
  const rows = await sql<{ seq: number | string }>(t, "select seq from audit_events where request_id = ? order by seq", [requestId]);
  return rows.map((row) => Number(row.seq));
}

/** masquerade_sessions_revoked_total{cause} as /metrics on METRICS_PORT reports it now. */
async function revokedMetric(cause: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${t.app.metricsPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`masquerade_sessions_revoked_total{cause="${cause}"} `));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("turning allowReadWrite off", () => {
  it("revokes the project's active READ_WRITE sessions at once; READ_ONLY ones and other projects' keep refreshing", async () => {
    const readWrite = [await start(world.supportManager, { mode: "READ_WRITE" }), await start(world.developer, { mode: "READ_WRITE" })];
    const readOnly = await start(world.supportManager, { mode: "READ_ONLY" });
    const approvedReadWrite = await startApproved(world.userId, world.developer, "READ_WRITE");
    const otherProject = await start(world.admin, { mode: "READ_WRITE", other: true });
    const unusedReadWrite = expectOk(await createModeToken(t, world.supportManager.credential, { projectId: world.projectId, userId: world.userId, mode: "READ_WRITE" }))
      .createImpersonationToken.token;
    const metricBefore = await revokedMetric("read_write_disallowed");

    const response = await policy({ allowReadWrite: false });
    try {
      expectOk(response);
      // An approval does not make a READ_WRITE session acceptable once read-write is off.
      const event = await expectRevokedBy(response, "SetImpersonationPolicy", [...readWrite, approvedReadWrite], "read_write_disallowed");
      expect(JSON.parse(event.details!)).toMatchObject({ old: { allowReadWrite: true }, new: { allowReadWrite: false }, revokedSessions: 3 });
      await expectRunning([readOnly, otherProject]);
      expect(await revokedMetric("read_write_disallowed")).toBe(metricBefore + 3);

      // A READ_WRITE token created before is refused at its exchange (not voided: it stays unused).
      const unused = await countRows(t, "impersonation_tokens", "used_at is null and voided_at is null");
      expectCode(await exchange(t, world.backend, unusedReadWrite), "FORBIDDEN");
      expect(await countRows(t, "impersonation_tokens", "used_at is null and voided_at is null")).toBe(unused);
      // Setting it off again revokes nothing more (and says so).
      const again = await policy({ allowReadWrite: false });
      expect(await auditRows(t, "request_id = ?", [requestIdOf(again)])).toHaveLength(1);
      await expectAuditLogValid(t, world, [world.projectId, world.other.projectId]);
    } finally {
      await reset();
    }
  });

  it("leaves no READ_WRITE session running however exchanges and the change interleave", async () => {
    for (let round = 0; round < 5; round++) {
      const tokens = await Promise.all(
        Array.from({ length: 6 }, async () =>
          expectOk(await createModeToken(t, world.supportManager.credential, { projectId: world.projectId, userId: world.userId, mode: "READ_WRITE" }))
            .createImpersonationToken.token,
        ),
      );
      // The change is sent amid the exchanges, its place moving from round to round.
      const calls: Array<Promise<GraphQLResponse<unknown>>> = tokens.map((token) => exchange(t, world.backend, token));
      calls.splice(round + 1, 0, policy({ allowReadWrite: false }));
      const responses = await Promise.all(calls);
      const [change] = responses.splice(round + 1, 1);
      const exchanges = responses;
      try {
        expectOk(change!);
        // Each exchange either committed before the change (then the change revoked its session) or after (refused).
        expect(Object.keys(tally(outcomes(exchanges))).filter((code) => code !== "OK" && code !== "FORBIDDEN")).toEqual([]);
        expect(await countRows(t, "sessions", "project_id = ? and mode = ? and revoked_at is null", [world.projectId, "READ_WRITE"])).toBe(0);
        // ... and the change revoked exactly the sessions of the exchanges that came first.
        const revoked = await auditRows(t, "request_id = ? and action = ?", [requestIdOf(change!), "RevokeSession"]);
        expect(revoked).toHaveLength(outcomes(exchanges).filter((code) => code === "OK").length);
      } finally {
        expectOk(await policy({ allowReadWrite: true, defaultMode: "READ_WRITE" }));
      }
    }
    await expectAuditLogValid(t, world);
    await reset();
  });
});

describe("requiring approval for all", () => {
  it("revokes the project's active sessions not started from an approved request; approved ones keep refreshing", async () => {
    const otherUser = await newUser(t, world);
    const unapproved = [await start(world.supportManager), await start(world.developer, { userId: otherUser, mode: "READ_ONLY" })];
    const approved = await startApproved(otherUser);
    const otherProject = await start(world.admin, { other: true });
    const unusedToken = expectOk(await createModeToken(t, world.developer.credential, { projectId: world.projectId, userId: otherUser })).createImpersonationToken.token;
    const metricBefore = await revokedMetric("approval_required");

    const response = await policy({ requireApproval: "ALL" });
    try {
      expectOk(response);
      const event = await expectRevokedBy(response, "SetImpersonationPolicy", unapproved, "approval_required");
      expect(JSON.parse(event.details!)).toMatchObject({ old: { requireApproval: "PROTECTED_USERS" }, new: { requireApproval: "ALL" }, revokedSessions: 2 });
      await expectRunning([approved, otherProject]);
      expect(await revokedMetric("approval_required")).toBe(metricBefore + 2);

      // A token created without an approval before the change is refused at its exchange, and stays unused.
      const sessions = await countRows(t, "sessions");
      expectCode(await exchange(t, world.backend, unusedToken), "APPROVAL_REQUIRED");
      expect(await countRows(t, "sessions")).toBe(sessions);
      await expectAuditLogValid(t, world, [world.projectId, world.other.projectId]);
    } finally {
      await reset();
    }
  });

  it("revokes both kinds when one change turns read-write off and requires approval for all", async () => {
    const readWriteApproved = await startApproved(world.userId, world.supportManager, "READ_WRITE");
    const readOnlyUnapproved = await start(world.developer, { mode: "READ_ONLY" });
    const readOnlyApproved = await startApproved(world.userId, world.developer, "READ_ONLY");

    const response = await policy({ allowReadWrite: false, requireApproval: "ALL" });
    try {
      expectOk(response);
      const revoked = await auditRows(t, "request_id = ? and action = ?", [requestIdOf(response), "RevokeSession"]);
      expect(revoked.map((event) => [event.session_id, JSON.parse(event.details!).cause])).toEqual([
        [readWriteApproved.id, "read_write_disallowed"],
        [readOnlyUnapproved.id, "approval_required"],
      ]);
      await expectRunning([readOnlyApproved]);
    } finally {
      await reset();
    }
  });
});

describe("protecting a user", () => {
  it("revokes that user's active sessions not started from an approved request; its approved ones and other users' keep refreshing", async () => {
    const vip = await newUser(t, world);
    // An approved session, begun while the user was protected once before.
    expectOk(await protect(vip));
    const approved = await startApproved(vip, world.developer);
    expectOk(await protect(vip, false));
    const unapproved = [await start(world.supportManager, { userId: vip }), await start(world.developer, { userId: vip, mode: "READ_ONLY" })];
    const bystander = await start(world.supportManager);
    const unusedToken = expectOk(await createModeToken(t, world.supportManager.credential, { projectId: world.projectId, userId: vip })).createImpersonationToken.token;
    const metricBefore = await revokedMetric("user_protected");

    const response = await protect(vip);
    expect(expectOk(response).updateUser.protected).toBe(true);
    const event = await expectRevokedBy(response, "UpdateUser", unapproved, "user_protected");
    expect(JSON.parse(event.details!)).toMatchObject({ old: { protected: false }, new: { protected: true }, changed: ["protected"], revokedSessions: 2 });
    await expectRunning([approved, bystander]);
    expect(await revokedMetric("user_protected")).toBe(metricBefore + 2);

    // The token created while it was unprotected is refused at its exchange, and stays unused.
    expectCode(await exchange(t, world.backend, unusedToken), "APPROVAL_REQUIRED");
    expect(await countRows(t, "sessions", "user_id = ? and revoked_at is null", [vip])).toBe(1);

    // A refused protect (not an ADMIN) revokes nothing.
    const stillRunning = await startApproved(vip);
    expectCode(await gql(t.url, world.developer.credential, UpdateUserDocument, { projectId: world.projectId, id: vip, input: { protected: true } }), "FORBIDDEN");
    await expectRunning([approved, stillRunning]);
    await expectAuditLogValid(t, world);
    await reset();
  });
});
