import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ImpersonationCheckDocument, ImpersonationRequestsDocument, SetSafetyPolicyDocument, UpdateUserDocument } from "./__generated__/graphql.js";
import { gql, type Credential, type GraphQLResponse } from "./harness/client.js";
import {
  approve,
  createModeToken,
  defaultReason,
  deny,
  exchange,
  expectAuditLogValid,
  expectOneEventPerCall,
  openRequest,
  requestIdOf,
  requestImpersonation,
  setSafetyPolicy,
  statusOf,
  tokenFromRequest,
  type RequestView,
} from "./harness/approvals.js";
import { auditRows, countRows, expectCode, expectOk, newMember, newUser } from "./harness/core-operations.js";
import type { Member } from "./harness/fixtures.js";
import { credentialOf as credentialFor, matrixCallers, type MatrixCaller } from "./harness/matrix-callers.js";
import type { TestApp } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * SPEC §9, four-eyes approval: every cell of the new matrix rows, and every new error code provoked
 * for real, through the real endpoint on the vitest project's database.
 */
const { t, world } = useTestWorld();

/** The requester of the requests others decide (never one of the callers below). */
let requester: Member;
/** A second ADMIN, so that an ADMIN's own request can be decided by another. */
let secondAdmin: Member;
beforeAll(async () => {
  requester = await newMember(t, world, "SUPPORT_MANAGER");
  secondAdmin = await newMember(t, world, "ADMIN");
});

afterEach(async () => {
  await setSafetyPolicy(t, world, { allowImpersonation: true, allowReadWrite: true, defaultMode: "READ_WRITE", requireApproval: "PROTECTED_USERS", approvalTtlMinutes: 60 });
});

const callers = matrixCallers;
type Caller = MatrixCaller;
const credentialOf = (caller: Caller) => credentialFor(world, caller);

const Y = "allowed";
const F = "FORBIDDEN";
const U = "UNAUTHENTICATED";
const impersonators = { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: F, backend: F, "other project's backend": F, frontend: F, anonymous: U } as const;
const adminOnly = { ADMIN: Y, DEVELOPER: F, SUPPORT_MANAGER: F, VIEWER: F, backend: F, "other project's backend": F, frontend: F, anonymous: U } as const;
const everyMember = { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: Y, backend: F, "other project's backend": F, frontend: F, anonymous: U } as const;

interface Row {
  operation: string;
  /** A mutation: each authenticated call leaves one audit event of its own (SUCCESS, or FAILURE FORBIDDEN). */
  audited: string | null;
  call(credential: Credential): Promise<GraphQLResponse<any>>;
  outcomes: Record<Caller, string>;
}

const rows: Row[] = [
  {
    operation: "requestImpersonation",
    audited: "RequestImpersonation",
    call: (c) => requestImpersonation(t, world, c, { mode: "READ_ONLY" }),
    outcomes: impersonators,
  },
  {
    operation: "approveImpersonationRequest",
    audited: "ApproveImpersonationRequest",
    call: async (c) => approve(t, c, (await openRequest(t, world, requester)).id),
    outcomes: adminOnly,
  },
  {
    operation: "denyImpersonationRequest",
    audited: "DenyImpersonationRequest",
    call: async (c) => deny(t, c, (await openRequest(t, world, requester)).id),
    outcomes: adminOnly,
  },
  {
    operation: "impersonationRequests",
    audited: null,
    call: (c) => gql(t.url, c, ImpersonationRequestsDocument, { projectId: world.projectId }),
    outcomes: everyMember,
  },
  {
    operation: "impersonationCheck",
    audited: null,
    call: (c) => gql(t.url, c, ImpersonationCheckDocument, { projectId: world.projectId, userId: world.userId }),
    outcomes: everyMember,
  },
];

describe("the authorization matrix's new rows (SPEC §9)", () => {
  for (const row of rows) {
    describe(row.operation, () => {
      it.each(callers.map((caller) => ({ caller, outcome: row.outcomes[caller] })))("$caller: $outcome", async ({ caller, outcome }) => {
        const result = await row.call(credentialOf(caller));
        if (outcome === Y) {
          expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
          expect(Object.values(result.data ?? {})[0]).toBeTruthy();
        } else {
          expectCode(result, outcome);
          expect(result.data ?? null).toBeNull();
        }
        const events = await auditRows(t, "request_id = ?", [requestIdOf(result)]);
        if (row.audited && outcome !== U) {
          const [event] = await expectOneEventPerCall(t, [result], row.audited);
          // A refused call lands in the log of the project it named; another project's credential's
          // in that project's own log, never in this one's.
          expect(event!.project_id).toBe(caller === "other project's backend" ? world.other.projectId : world.projectId);
          expect(events).toHaveLength(1);
        } else {
          expect(events).toEqual([]);
        }
      });
    });
  }

  it("requestImpersonation records who asked: each impersonating role's request is its own, PENDING", async () => {
    for (const member of [world.admin, world.developer, world.supportManager]) {
      const request = expectOk(await requestImpersonation(t, world, member.credential)).requestImpersonation;
      expect(request).toMatchObject({ requesterId: member.id, status: "PENDING", userId: world.userId, projectId: world.projectId });
    }
  });

  it("an ADMIN never decides its own request (FORBIDDEN, audited, still PENDING); another ADMIN can", async () => {
    for (const decide of [approve, deny] as Array<(t: TestApp, credential: Credential, id: string) => Promise<GraphQLResponse<unknown>>>) {
      const own = await openRequest(t, world, world.admin);
      const refused = await decide(t, world.admin.credential, own.id);
      expectCode(refused, "FORBIDDEN");
      const [event] = await expectOneEventPerCall(t, [refused], decide === approve ? "ApproveImpersonationRequest" : "DenyImpersonationRequest");
      expect(event).toMatchObject({ project_id: world.projectId, impersonation_request_id: own.id, impersonator_id: world.admin.id });
      expect(await statusOf(t, world, own.id)).toBe("PENDING");
      expectOk(await decide(t, secondAdmin.credential, own.id));
    }
  });

  it("impersonationCheck answers each member role for itself: a VIEWER is told FORBIDDEN, not refused", async () => {
    const answers: Record<string, unknown> = {};
    for (const member of [world.admin, world.developer, world.supportManager, world.viewer]) {
      const check = expectOk(await gql(t.url, member.credential, ImpersonationCheckDocument, { projectId: world.projectId, userId: world.userId })).impersonationCheck;
      answers[member.id] = [check.allowed, check.reasonCode];
    }
    expect(answers).toEqual({
      [world.admin.id]: [true, null],
      [world.developer.id]: [true, null],
      [world.supportManager.id]: [true, null],
      [world.viewer.id]: [false, "FORBIDDEN"],
    });
  });
});

/** A user of the world's project that an ADMIN has protected. */
async function protectedUser(): Promise<string> {
  const id = await newUser(t, world);
  expectOk(await gql(t.url, world.admin.credential, UpdateUserDocument, { projectId: world.projectId, id, input: { protected: true } }));
  return id;
}

async function approvedRequest(args: { userId?: string; mode?: "READ_ONLY" | "READ_WRITE" } = {}): Promise<RequestView> {
  const request = await openRequest(t, world, world.supportManager, args);
  expectOk(await approve(t, world.admin.credential, request.id));
  return request;
}

const sm = () => world.supportManager.credential;

describe("APPROVAL_REQUIRED", () => {
  it("at creation: a protected user, or requireApproval ALL; audited as a FAILURE", async () => {
    const vip = await protectedUser();
    const protectedRefusal = await createModeToken(t, sm(), { projectId: world.projectId, userId: vip });
    expectCode(protectedRefusal, "APPROVAL_REQUIRED");
    await setSafetyPolicy(t, world, { requireApproval: "ALL" });
    const allRefusal = await createModeToken(t, sm(), { projectId: world.projectId, userId: world.userId });
    expectCode(allRefusal, "APPROVAL_REQUIRED");
    await expectOneEventPerCall(t, [protectedRefusal, allRefusal], "CreateImpersonationToken");
    // requireApproval NONE does not lift it for a protected user.
    await setSafetyPolicy(t, world, { requireApproval: "NONE" });
    expectCode(await createModeToken(t, sm(), { projectId: world.projectId, userId: vip }), "APPROVAL_REQUIRED");
    expectOk(await createModeToken(t, sm(), { projectId: world.projectId, userId: world.userId }));
  });

  it("at exchange: the user became protected, or requireApproval became ALL; a token from a request is not affected", async () => {
    const userId = await newUser(t, world);
    const plain = expectOk(await createModeToken(t, sm(), { projectId: world.projectId, userId })).createImpersonationToken;
    const request = await approvedRequest({ userId });
    const fromRequest = expectOk(await tokenFromRequest(t, sm(), request)).createImpersonationToken;
    expectOk(await gql(t.url, world.admin.credential, UpdateUserDocument, { projectId: world.projectId, id: userId, input: { protected: true } }));
    const refused = await exchange(t, world.backend, plain.token);
    expectCode(refused, "APPROVAL_REQUIRED");
    await expectOneEventPerCall(t, [refused], "AuthenticateImpersonationToken");
    expectOk(await exchange(t, world.backend, fromRequest.token));

    const later = expectOk(await createModeToken(t, sm(), { projectId: world.projectId, userId: world.userId })).createImpersonationToken;
    await setSafetyPolicy(t, world, { requireApproval: "ALL" });
    expectCode(await exchange(t, world.backend, later.token), "APPROVAL_REQUIRED");
  });
});

describe("IMPERSONATION_REQUEST_NOT_FOUND", () => {
  it("for an unknown id, another member's request and another project's request; audited", async () => {
    const mine = await approvedRequest();
    const theirs = await openRequest(t, world, world.developer);
    expectOk(await approve(t, world.admin.credential, theirs.id));
    const elsewhere = await openRequest(t, world, world.supportManager, { projectId: world.other.projectId, userId: world.other.userId });
    expectOk(await approve(t, world.admin.credential, elsewhere.id));

    const refusals = [
      await tokenFromRequest(t, sm(), { ...mine, id: "impreq_ThisRequestWasNeverMade000000" }),
      await tokenFromRequest(t, sm(), { ...mine, id: "x" }),
      // The developer's approved request, named by the SUPPORT_MANAGER.
      await tokenFromRequest(t, sm(), theirs),
      // The SUPPORT_MANAGER's own approved request of the other project, named in this one.
      await tokenFromRequest(t, sm(), { ...elsewhere, projectId: world.projectId, userId: world.userId }),
    ];
    for (const refusal of refusals) expectCode(refusal, "IMPERSONATION_REQUEST_NOT_FOUND");
    await expectOneEventPerCall(t, refusals, "CreateImpersonationToken");
    // Nothing was used up: each request still yields its token to its own requester, in its own project.
    expectOk(await tokenFromRequest(t, sm(), mine));
    expectOk(await tokenFromRequest(t, world.developer.credential, theirs));
    expectOk(await tokenFromRequest(t, sm(), elsewhere));
  });

  it("deciding an unknown request", async () => {
    const refusals: GraphQLResponse<unknown>[] = [await approve(t, world.admin.credential, "impreq_Unknown000000000000000000"), await deny(t, world.admin.credential, "nope")];
    for (const refusal of refusals) expectCode(refusal, "IMPERSONATION_REQUEST_NOT_FOUND");
    await expectOneEventPerCall(t, refusals.slice(0, 1), "ApproveImpersonationRequest");
    await expectOneEventPerCall(t, refusals.slice(1), "DenyImpersonationRequest");
  });
});

describe("IMPERSONATION_REQUEST_NOT_APPROVED and IMPERSONATION_REQUEST_ALREADY_DECIDED", () => {
  it("no token from a pending, denied, expired or already used request", async () => {
    const pending = await openRequest(t, world);
    const denied = await openRequest(t, world);
    expectOk(await deny(t, world.admin.credential, denied.id, "Ask the customer first"));
    const used = await approvedRequest();
    expectOk(await tokenFromRequest(t, sm(), used));
    const expiring = await approvedRequest();
    t.clock.advance(60 * 60_000 + 1_000);
    expect(await statusOf(t, world, expiring.id)).toBe("EXPIRED");

    const refusals: GraphQLResponse<unknown>[] = [];
    for (const request of [pending, denied, used, expiring]) refusals.push(await tokenFromRequest(t, sm(), request));
    for (const refusal of refusals) expectCode(refusal, "IMPERSONATION_REQUEST_NOT_APPROVED");
    await expectOneEventPerCall(t, refusals, "CreateImpersonationToken");
    expect(await countRows(t, "impersonation_tokens", "impersonation_request_id in (?, ?, ?)", [pending.id, denied.id, expiring.id])).toBe(0);
  });

  it("no second decision, and none after the request's time is up (fake clock)", async () => {
    const approved = await approvedRequest();
    const denied = await openRequest(t, world);
    expectOk(await deny(t, world.admin.credential, denied.id));
    await setSafetyPolicy(t, world, { approvalTtlMinutes: 5 });
    const stale = await openRequest(t, world);
    expect(new Date(stale.expiresAt).getTime() - new Date(stale.createdAt).getTime()).toBe(5 * 60_000);
    t.clock.advance(5 * 60_000);

    const refusals = [
      await approve(t, secondAdmin.credential, approved.id),
      await deny(t, secondAdmin.credential, approved.id),
      await approve(t, secondAdmin.credential, denied.id),
      await deny(t, secondAdmin.credential, denied.id),
      await approve(t, secondAdmin.credential, stale.id),
      await deny(t, secondAdmin.credential, stale.id),
    ];
    for (const refusal of refusals) expectCode(refusal, "IMPERSONATION_REQUEST_ALREADY_DECIDED");
    await expectOneEventPerCall(t, refusals.filter((_, i) => i % 2 === 0), "ApproveImpersonationRequest");
    await expectOneEventPerCall(t, refusals.filter((_, i) => i % 2 === 1), "DenyImpersonationRequest");
    expect([await statusOf(t, world, approved.id), await statusOf(t, world, denied.id), await statusOf(t, world, stale.id)]).toEqual([
      "APPROVED",
      "DENIED",
      "EXPIRED",
    ]);
  });
});

describe("BAD_USER_INPUT", () => {
  it("a token from a request must repeat its user, mode (if given) and reason; the request stays usable", async () => {
    const request = await approvedRequest({ mode: "READ_ONLY" });
    const otherUser = await newUser(t, world);
    const refusals = [
      await tokenFromRequest(t, sm(), request, { userId: otherUser }),
      await tokenFromRequest(t, sm(), request, { mode: "READ_WRITE" }),
      await tokenFromRequest(t, sm(), request, { reason: `${defaultReason}, and more` }),
    ];
    for (const refusal of refusals) expectCode(refusal, "BAD_USER_INPUT");
    await expectOneEventPerCall(t, refusals, "CreateImpersonationToken");
    expect(await statusOf(t, world, request.id)).toBe("APPROVED");
    // The same mode given, or none: the request's.
    const token = expectOk(await tokenFromRequest(t, sm(), request, { mode: "READ_ONLY" })).createImpersonationToken.token;
    expect(expectOk(await exchange(t, world.backend, token)).authenticateImpersonationToken.session.mode).toBe("READ_ONLY");
  });

  it("policy: allowReadWrite false with defaultMode READ_WRITE; approvalTtlMinutes outside 5 to 1440", async () => {
    const setPolicy = (input: Record<string, unknown>) => gql(t.url, world.admin.credential, SetSafetyPolicyDocument, { projectId: world.projectId, input });
    const refusals = [
      await setPolicy({ allowReadWrite: false, defaultMode: "READ_WRITE" }),
      ...(await Promise.all([4, 1441, 0, -5].map((approvalTtlMinutes) => setPolicy({ approvalTtlMinutes })))),
    ];
    for (const refusal of refusals) expectCode(refusal, "BAD_USER_INPUT");
    await expectOneEventPerCall(t, refusals, "SetImpersonationPolicy");
    const policy = expectOk(await setPolicy({ approvalTtlMinutes: 1440 })).setImpersonationPolicy;
    expect(policy).toMatchObject({ allowReadWrite: true, defaultMode: "READ_WRITE", approvalTtlMinutes: 1440 });
    expect(expectOk(await setPolicy({ approvalTtlMinutes: 5 })).setImpersonationPolicy.approvalTtlMinutes).toBe(5);
    // allowReadWrite false alone turns the default to READ_ONLY.
    expect(expectOk(await setPolicy({ allowReadWrite: false })).setImpersonationPolicy).toMatchObject({ allowReadWrite: false, defaultMode: "READ_ONLY" });
  });

  it("an empty deny reason or request reason; the request stays PENDING", async () => {
    const request = await openRequest(t, world);
    const refusals = [await deny(t, world.admin.credential, request.id, ""), await deny(t, world.admin.credential, request.id, "   ")];
    for (const refusal of refusals) expectCode(refusal, "BAD_USER_INPUT");
    await expectOneEventPerCall(t, refusals, "DenyImpersonationRequest");
    expect(await statusOf(t, world, request.id)).toBe("PENDING");
    const emptyReason = await requestImpersonation(t, world, sm(), { reason: " " });
    expectCode(emptyReason, "BAD_USER_INPUT");
    await expectOneEventPerCall(t, [emptyReason], "RequestImpersonation");
  });
});

describe("FORBIDDEN for READ_WRITE when allowReadWrite is false", () => {
  it("at creation and at request; READ_ONLY (and the default) still work", async () => {
    await setSafetyPolicy(t, world, { allowReadWrite: false });
    const refusals = [
      await createModeToken(t, sm(), { projectId: world.projectId, userId: world.userId, mode: "READ_WRITE" }),
      await requestImpersonation(t, world, sm(), { mode: "READ_WRITE" }),
    ];
    for (const refusal of refusals) expectCode(refusal, "FORBIDDEN");
    await expectOneEventPerCall(t, refusals.slice(0, 1), "CreateImpersonationToken");
    await expectOneEventPerCall(t, refusals.slice(1), "RequestImpersonation");
    const token = expectOk(await createModeToken(t, sm(), { projectId: world.projectId, userId: world.userId })).createImpersonationToken.token;
    expect(expectOk(await exchange(t, world.backend, token)).authenticateImpersonationToken.session.mode).toBe("READ_ONLY");
    expect(expectOk(await requestImpersonation(t, world, sm())).requestImpersonation.mode).toBe("READ_ONLY");
  });

  it("at exchange, and from an approved READ_WRITE request, after the policy changed", async () => {
    const token = expectOk(await createModeToken(t, sm(), { projectId: world.projectId, userId: world.userId, mode: "READ_WRITE" })).createImpersonationToken.token;
    const request = await approvedRequest({ mode: "READ_WRITE" });
    await setSafetyPolicy(t, world, { allowReadWrite: false });

    const refusedExchange = await exchange(t, world.backend, token);
    expectCode(refusedExchange, "FORBIDDEN");
    await expectOneEventPerCall(t, [refusedExchange], "AuthenticateImpersonationToken");
    const refusedCreation = await tokenFromRequest(t, sm(), request);
    expectCode(refusedCreation, "FORBIDDEN");
    await expectOneEventPerCall(t, [refusedCreation], "CreateImpersonationToken");

    // Allowed again: the refused token was left unused, and the request still approved.
    await setSafetyPolicy(t, world, { allowReadWrite: true });
    expect(expectOk(await exchange(t, world.backend, token)).authenticateImpersonationToken.session.mode).toBe("READ_WRITE");
    expectOk(await tokenFromRequest(t, sm(), request));
  });
});

describe("the audit log after all of it", () => {
  it("verifies", async () => {
    await expectAuditLogValid(t, world, [world.projectId, world.other.projectId]);
  });
});
