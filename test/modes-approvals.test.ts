import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  ApproveImpersonationRequestDocument,
  AuthenticateSessionModeDocument,
  CreateTokenWithModeDocument,
  DenyImpersonationRequestDocument,
  ExchangeForModeDocument,
  ImpersonationCheckDocument,
  ImpersonationRequestsDocument,
  RequestImpersonationDocument,
  SafetyAuditEventsDocument,
  SafetyPolicyDocument,
  SetSafetyPolicyDocument,
  UpdateUserDocument,
  VerifyAuditLogDocument,
  type ImpersonationMode,
  type ImpersonationPolicyInput,
} from "./__generated__/graphql.js";
import { gql, type Credential } from "./harness/client.js";
import { expectCode, expectOk, newUser, unique } from "./harness/core-operations.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * SPEC §9 through the real endpoint: modes on the token, the session, the JWT and the audit log;
 * the four-eyes flow from request to approval to launch; denial; expiry through the fake clock.
 * Races, the matrix's cells, impersonationCheck against every rule and the webhooks have files of
 * their own (approval-*.test.ts, impersonation-check.test.ts).
 */

function projectWorld() {
  const { t, world } = useTestWorld();
  const admin = () => world.admin.credential;
  const support = () => world.supportManager.credential;

  const policy = (input: ImpersonationPolicyInput, projectId = world.projectId) => gql(t.url, admin(), SetSafetyPolicyDocument, { projectId, input });
  const createToken = (input: { userId?: string; mode?: ImpersonationMode; requestId?: string; reason?: string }, as: Credential = support()) =>
    gql(t.url, as, CreateTokenWithModeDocument, {
      input: { projectId: world.projectId, userId: input.userId ?? world.userId, reason: input.reason ?? "Checking the invoice page", mode: input.mode, requestId: input.requestId },
    });
  const exchange = (token: string) => gql(t.url, world.backend, ExchangeForModeDocument, { token });
  const request = (input: { userId: string; mode?: ImpersonationMode; reason?: string }, as: Credential = support()) =>
    gql(t.url, as, RequestImpersonationDocument, { input: { projectId: world.projectId, reason: "Checking the invoice page", ...input } });
  const events = async (filter: { actions?: string[] } = {}) =>
    expectOk(await gql(t.url, admin(), SafetyAuditEventsDocument, { projectId: world.projectId, filter, first: 20 })).auditEvents.edges.map((edge) => edge.node);
  const protectedUser = async () => {
    const id = await newUser(t, world);
    expectOk(await gql(t.url, admin(), UpdateUserDocument, { projectId: world.projectId, id, input: { protected: true } }));
    return id;
  };
  return { t, world, policy, createToken, exchange, request, events, protectedUser };
}

describe("modes", () => {
  const { t, world, policy, createToken, exchange, events } = projectWorld();

  it("has the contract's defaults: READ_WRITE by default, read-write allowed, approval for protected users, 60 minutes", async () => {
    const current = expectOk(await gql(t.url, world.viewer.credential, SafetyPolicyDocument, { projectId: world.projectId })).impersonationPolicy;
    expect(current).toMatchObject({ defaultMode: "READ_WRITE", allowReadWrite: true, requireApproval: "PROTECTED_USERS", approvalTtlMinutes: 60 });
  });

  it("puts the mode on the token's session, its JWT (imp.mode), the refreshed JWT and both audit events", async () => {
    for (const [mode, claim] of [["READ_ONLY", "read_only"], ["READ_WRITE", "read_write"]] as const) {
      const reason = unique(`mode ${mode}`);
      const { token } = expectOk(await createToken({ mode, reason })).createImpersonationToken;
      const { session, sessionJwt, sessionToken } = expectOk(await exchange(token)).authenticateImpersonationToken;
      expect(session.mode).toBe(mode);
      expect(decodeJwt(sessionJwt).imp).toEqual({ mode: claim });

      t.clock.advanceSeconds(2);
      const refreshed = expectOk(await gql(t.url, world.backend, AuthenticateSessionModeDocument, { sessionToken })).authenticateSession;
      expect(refreshed.session.mode).toBe(mode);
      expect(decodeJwt(refreshed.sessionJwt).imp).toEqual({ mode: claim });

      const logged = (await events({ actions: ["CreateImpersonationToken", "AuthenticateImpersonationToken"] })).filter((event) => event.reason === reason);
      expect(logged.map((event) => [event.action, event.mode])).toEqual([
        ["AuthenticateImpersonationToken", mode],
        ["CreateImpersonationToken", mode],
      ]);
    }
  });

  it("gives a token without a mode the policy's defaultMode", async () => {
    const { token } = expectOk(await createToken({})).createImpersonationToken;
    expect(expectOk(await exchange(token)).authenticateImpersonationToken.session.mode).toBe("READ_WRITE");

    expectOk(await policy({ defaultMode: "READ_ONLY" }));
    try {
      const second = expectOk(await createToken({})).createImpersonationToken;
      expect(expectOk(await exchange(second.token)).authenticateImpersonationToken.session.mode).toBe("READ_ONLY");
    } finally {
      expectOk(await policy({ defaultMode: "READ_WRITE" }));
    }
  });

  it("refuses READ_WRITE with FORBIDDEN where the policy allows read-only only, at creation and at exchange", async () => {
    const earlier = expectOk(await createToken({ mode: "READ_WRITE" })).createImpersonationToken;
    // allowReadWrite false without a defaultMode: the default becomes READ_ONLY.
    const changed = expectOk(await policy({ allowReadWrite: false })).setImpersonationPolicy;
    expect(changed).toMatchObject({ allowReadWrite: false, defaultMode: "READ_ONLY" });
    try {
      expectCode(await createToken({ mode: "READ_WRITE" }), "FORBIDDEN");
      expectCode(await exchange(earlier.token), "FORBIDDEN");
      const readOnly = expectOk(await createToken({})).createImpersonationToken;
      expect(expectOk(await exchange(readOnly.token)).authenticateImpersonationToken.session.mode).toBe("READ_ONLY");
      // The refused exchange left its token unused: it works again once read-write is allowed.
      expectOk(await policy({ allowReadWrite: true }));
      expect(expectOk(await exchange(earlier.token)).authenticateImpersonationToken.session.mode).toBe("READ_WRITE");
    } finally {
      expectOk(await policy({ allowReadWrite: true, defaultMode: "READ_WRITE" }));
    }
  });

  it("refuses a READ_WRITE default without read-write allowed, and out-of-range approval TTLs, changing nothing", async () => {
    expectCode(await policy({ allowReadWrite: false, defaultMode: "READ_WRITE" }), "BAD_USER_INPUT");
    expectCode(await policy({ approvalTtlMinutes: 4 }), "BAD_USER_INPUT");
    expectCode(await policy({ approvalTtlMinutes: 1441 }), "BAD_USER_INPUT");
    const current = expectOk(await gql(t.url, world.admin.credential, SafetyPolicyDocument, { projectId: world.projectId })).impersonationPolicy;
    expect(current).toMatchObject({ allowReadWrite: true, defaultMode: "READ_WRITE", approvalTtlMinutes: 60 });
  });
});

describe("four-eyes approval", () => {
  const { t, world, policy, createToken, exchange, request, events, protectedUser } = projectWorld();
  const approve = (id: string, as: Credential = world.admin.credential) => gql(t.url, as, ApproveImpersonationRequestDocument, { id });
  const deny = (id: string, reason: string) => gql(t.url, world.admin.credential, DenyImpersonationRequestDocument, { id, reason });
  const requests = async (status?: "PENDING" | "APPROVED" | "DENIED" | "EXPIRED" | "USED") =>
    expectOk(await gql(t.url, world.viewer.credential, ImpersonationRequestsDocument, { projectId: world.projectId, status, first: 100 })).impersonationRequests.edges.map(
      (edge) => edge.node,
    );

  it("support works read-only, VIPs need an admin's approval, nobody runs more than two: one policy call, then request → approve → launch", async () => {
    expectOk(await policy({ allowReadWrite: false, defaultMode: "READ_ONLY", requireApproval: "PROTECTED_USERS", maxActiveSessionsPerImpersonator: 2 }));
    const vip = await protectedUser();

    // Before anyone clicks: the console's explain answer.
    const check = expectOk(await gql(t.url, world.supportManager.credential, ImpersonationCheckDocument, { projectId: world.projectId, userId: vip })).impersonationCheck;
    expect(check).toMatchObject({ allowed: false, requiresApproval: true, reasonCode: "APPROVAL_REQUIRED" });
    expectCode(await createToken({ userId: vip }), "APPROVAL_REQUIRED");

    const reason = "Ticket 4711: the VIP's export fails";
    const pending = expectOk(await request({ userId: vip, reason })).requestImpersonation;
    expect(pending).toMatchObject({ status: "PENDING", mode: "READ_ONLY", userId: vip, requesterId: world.supportManager.id, reason, decidedById: null });
    expect(pending.requester?.email).toBe(world.supportManager.email);
    expect(new Date(pending.expiresAt).getTime() - new Date(pending.createdAt).getTime()).toBe(60 * 60_000);
    expect((await requests("PENDING")).map((r) => r.id)).toContain(pending.id);

    // The requester cannot approve its own request, even as an ADMIN: tested with the ADMIN's own request below.
    const approved = expectOk(await approve(pending.id)).approveImpersonationRequest;
    expect(approved).toMatchObject({ id: pending.id, status: "APPROVED", decidedById: world.admin.id });
    expectCode(await approve(pending.id), "IMPERSONATION_REQUEST_ALREADY_DECIDED");

    const { token } = expectOk(await createToken({ userId: vip, requestId: pending.id, reason })).createImpersonationToken;
    const started = expectOk(await exchange(token)).authenticateImpersonationToken;
    expect(started.session.mode).toBe("READ_ONLY");
    expect(decodeJwt(started.sessionJwt).imp).toEqual({ mode: "read_only" });

    // Used once.
    expectCode(await createToken({ userId: vip, requestId: pending.id, reason }), "IMPERSONATION_REQUEST_NOT_APPROVED");
    expect((await requests("USED")).map((r) => r.id)).toContain(pending.id);

    const logged = (await events()).filter((event) => event.impersonationRequestId === pending.id);
    expect(logged.map((event) => [event.action, event.status, event.errorCode, event.mode])).toEqual([
      ["CreateImpersonationToken", "FAILURE", "IMPERSONATION_REQUEST_NOT_APPROVED", "READ_ONLY"],
      ["AuthenticateImpersonationToken", "SUCCESS", null, "READ_ONLY"],
      ["CreateImpersonationToken", "SUCCESS", null, "READ_ONLY"],
      ["ApproveImpersonationRequest", "FAILURE", "IMPERSONATION_REQUEST_ALREADY_DECIDED", "READ_ONLY"],
      ["ApproveImpersonationRequest", "SUCCESS", null, "READ_ONLY"],
      ["RequestImpersonation", "SUCCESS", null, "READ_ONLY"],
    ]);
    const approval = logged.find((event) => event.action === "ApproveImpersonationRequest" && event.status === "SUCCESS")!;
    expect(approval).toMatchObject({ eventType: "dashboard.impersonation_request.approve", actorId: world.admin.id, impersonatorId: world.supportManager.id });

    expectOk(await policy({ allowReadWrite: true, defaultMode: "READ_WRITE", maxActiveSessionsPerImpersonator: null }));
  });

  it("never lets a requester decide its own request", async () => {
    const user = await protectedUser();
    const own = expectOk(await request({ userId: user }, world.admin.credential)).requestImpersonation;
    expectCode(await approve(own.id, world.admin.credential), "FORBIDDEN");
    expectCode(await gql(t.url, world.admin.credential, DenyImpersonationRequestDocument, { id: own.id, reason: "no" }), "FORBIDDEN");
    expect((await requests("PENDING")).find((r) => r.id === own.id)?.status).toBe("PENDING");
  });

  it("denies with a reason: DENIED, kept, and no token from it", async () => {
    const user = await protectedUser();
    const pending = expectOk(await request({ userId: user })).requestImpersonation;
    expectCode(await deny(pending.id, "   "), "BAD_USER_INPUT");
    const denied = expectOk(await deny(pending.id, "Not without the customer's consent")).denyImpersonationRequest;
    expect(denied).toMatchObject({ status: "DENIED", denialReason: "Not without the customer's consent", decidedById: world.admin.id });
    expectCode(await approve(pending.id), "IMPERSONATION_REQUEST_ALREADY_DECIDED");
    expectCode(await createToken({ userId: user, requestId: pending.id }), "IMPERSONATION_REQUEST_NOT_APPROVED");
    const [event] = (await events({ actions: ["DenyImpersonationRequest"] })).filter((e) => e.impersonationRequestId === pending.id && e.status === "SUCCESS");
    expect(event).toMatchObject({ eventType: "dashboard.impersonation_request.deny" });
    expect(JSON.parse(event!.details!)).toEqual({ denialReason: "Not without the customer's consent" });
  });

  it("takes the request's user, mode and reason: a token that differs is BAD_USER_INPUT and leaves the approval unused", async () => {
    const user = await protectedUser();
    const pending = expectOk(await request({ userId: user, mode: "READ_ONLY", reason: "Export fails" })).requestImpersonation;
    expectOk(await approve(pending.id));
    expectCode(await createToken({ userId: world.userId, requestId: pending.id, reason: "Export fails" }), "BAD_USER_INPUT");
    expectCode(await createToken({ userId: user, requestId: pending.id, mode: "READ_WRITE", reason: "Export fails" }), "BAD_USER_INPUT");
    expectCode(await createToken({ userId: user, requestId: pending.id, reason: "Something else" }), "BAD_USER_INPUT");
    const { token } = expectOk(await createToken({ userId: user, requestId: pending.id, mode: "READ_ONLY", reason: "Export fails" })).createImpersonationToken;
    expect(expectOk(await exchange(token)).authenticateImpersonationToken.session.mode).toBe("READ_ONLY");
  });

  it("requires approval for everyone under requireApproval ALL, for nobody unprotected under NONE", async () => {
    const plain = await newUser(t, world);
    expectOk(await policy({ requireApproval: "ALL" }));
    try {
      expectCode(await createToken({ userId: plain }), "APPROVAL_REQUIRED");
      // A token created before the change is refused at exchange, and stays unused.
      expectOk(await policy({ requireApproval: "NONE" }));
      const earlier = expectOk(await createToken({ userId: plain })).createImpersonationToken;
      expectOk(await policy({ requireApproval: "ALL" }));
      expectCode(await exchange(earlier.token), "APPROVAL_REQUIRED");
      expectOk(await policy({ requireApproval: "NONE" }));
      expectOk(await exchange(earlier.token));
      // A protected user needs approval whatever the policy says.
      expectCode(await createToken({ userId: await protectedUser() }), "APPROVAL_REQUIRED");
    } finally {
      expectOk(await policy({ requireApproval: "PROTECTED_USERS" }));
    }
  });

  it("expires a request after approvalTtlMinutes, pending or approved (the fake clock)", async () => {
    expectOk(await policy({ approvalTtlMinutes: 5 }));
    try {
      const user = await protectedUser();
      const waiting = expectOk(await request({ userId: user })).requestImpersonation;
      const approvedLate = expectOk(await request({ userId: user })).requestImpersonation;
      expectOk(await approve(approvedLate.id));
      t.clock.advanceSeconds(5 * 60 - 1);
      expect((await requests()).find((r) => r.id === waiting.id)?.status).toBe("PENDING");
      t.clock.advanceSeconds(1);
      const listed = await requests("EXPIRED");
      expect(listed.map((r) => r.id)).toEqual(expect.arrayContaining([waiting.id, approvedLate.id]));
      expect((await requests("PENDING")).map((r) => r.id)).not.toContain(waiting.id);
      expectCode(await approve(waiting.id), "IMPERSONATION_REQUEST_ALREADY_DECIDED");
      expectCode(await createToken({ userId: user, requestId: approvedLate.id }), "IMPERSONATION_REQUEST_NOT_APPROVED");
    } finally {
      expectOk(await policy({ approvalTtlMinutes: 60 }));
    }
  });

  it("refuses another member's or another project's request, or an unknown one, with IMPERSONATION_REQUEST_NOT_FOUND", async () => {
    const user = await protectedUser();
    const theirs = expectOk(await request({ userId: user }, world.developer.credential)).requestImpersonation;
    expectOk(await approve(theirs.id));
    expectCode(await createToken({ userId: user, requestId: theirs.id }), "IMPERSONATION_REQUEST_NOT_FOUND");
    expectCode(await createToken({ userId: user, requestId: "impreq_unknown" }), "IMPERSONATION_REQUEST_NOT_FOUND");
    expectCode(await approve("impreq_unknown"), "IMPERSONATION_REQUEST_NOT_FOUND");
    const otherRequest = expectOk(
      await gql(t.url, world.supportManager.credential, RequestImpersonationDocument, {
        input: { projectId: world.other.projectId, userId: world.other.userId, reason: "Other project" },
      }),
    ).requestImpersonation;
    expectCode(await createToken({ userId: world.other.userId, requestId: otherRequest.id }), "IMPERSONATION_REQUEST_NOT_FOUND");
  });

  it("keeps every project's audit chain valid after all of it", async () => {
    for (const [projectId, atLeast] of [[world.projectId, 50], [world.other.projectId, 2]] as const) {
      const verified = expectOk(await gql(t.url, world.admin.credential, VerifyAuditLogDocument, { projectId })).verifyAuditLog;
      expect(verified).toMatchObject({ valid: true, firstInvalidEventId: null });
      expect(verified.checkedCount).toBeGreaterThanOrEqual(atLeast);
    }
  });
});
