import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ImpersonationRequestsDocument, SetSafetyPolicyDocument } from "./__generated__/graphql.js";
import { gql, gqlOk, type GraphQLResponse } from "./harness/client.js";
import {
  approve,
  createModeToken,
  deny,
  exchange,
  expectAuditLogValid,
  expectOneEventPerCall,
  openRequest,
  outcomes,
  requestById,
  requestImpersonation,
  setSafetyPolicy,
  statusOf,
  tally,
  tokenFromRequest,
} from "./harness/approvals.js";
import { countRows, expectCode, expectOk, newMember, sql, UPDATE_MEMBER } from "./harness/core-operations.js";
import type { Member } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * SPEC §9, four-eyes approval under concurrency: every race is decided by one conditional update,
 * through the real endpoint, on the vitest project's database. After each race the audit chains
 * verify and every call left exactly one audit event of its own.
 */
const { t, world } = useTestWorld();

/** A second ADMIN: approvals come from an ADMIN other than the requester. */
let approver: Member;
beforeAll(async () => {
  approver = await newMember(t, world, "ADMIN");
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const updateMember = (id: string, input: { disabled?: boolean; role?: "VIEWER" | "DEVELOPER" }) => gql(t.url, world.admin.credential, UPDATE_MEMBER, { id, input });
const setPolicyCall = (input: { allowImpersonation: boolean }) => gql(t.url, world.admin.credential, SetSafetyPolicyDocument, { projectId: world.projectId, input });

function indexOfSuccess(results: GraphQLResponse<unknown>[]): number {
  return results.findIndex((result) => !result.errors);
}

async function approvedRequest(member: Member = world.supportManager) {
  const request = await openRequest(t, world, member);
  expectOk(await approve(t, approver.credential, request.id));
  return request;
}

describe("deciding one request concurrently", () => {
  it("of 30 concurrent approvals exactly one succeeds; the others are IMPERSONATION_REQUEST_ALREADY_DECIDED", async () => {
    const request = await openRequest(t, world);
    const deciders = [world.admin, approver];
    const results = await Promise.all(range(30).map((i) => approve(t, deciders[i % 2]!.credential, request.id)));

    expect(tally(outcomes(results))).toEqual({ OK: 1, IMPERSONATION_REQUEST_ALREADY_DECIDED: 29 });
    const winner = deciders[indexOfSuccess(results) % 2]!;
    expect(await requestById(t, world, request.id)).toMatchObject({ status: "APPROVED", decidedById: winner.id, denialReason: null });
    const events = await expectOneEventPerCall(t, results, "ApproveImpersonationRequest");
    for (const event of events) {
      expect(event).toMatchObject({ project_id: world.projectId, user_id: world.userId, impersonator_id: world.supportManager.id, impersonation_request_id: request.id });
    }
    await expectAuditLogValid(t, world);
  });

  it("approve racing deny: exactly one wins and the status is the winner's, round after round", async () => {
    for (const round of range(3)) {
      const request = await openRequest(t, world);
      // Interleaved, in an order that changes each round.
      const calls = range(30).map((i) => ((i + round) % 2 === 0 ? { kind: "approve" as const, i } : { kind: "deny" as const, i }));
      const results = await Promise.all(
        calls.map((call) => (call.kind === "approve" ? approve(t, approver.credential, request.id) : deny(t, approver.credential, request.id, `No, reason ${call.i}`))),
      );

      expect(tally(outcomes(results))).toEqual({ OK: 1, IMPERSONATION_REQUEST_ALREADY_DECIDED: 29 });
      const won = calls[indexOfSuccess(results)]!;
      const now = await requestById(t, world, request.id);
      if (won.kind === "approve") {
        expect(now).toMatchObject({ status: "APPROVED", denialReason: null, decidedById: approver.id });
      } else {
        expect(now).toMatchObject({ status: "DENIED", denialReason: `No, reason ${won.i}`, decidedById: approver.id });
      }
      const approvals = results.filter((_, i) => calls[i]!.kind === "approve");
      const denials = results.filter((_, i) => calls[i]!.kind === "deny");
      await expectOneEventPerCall(t, approvals, "ApproveImpersonationRequest");
      await expectOneEventPerCall(t, denials, "DenyImpersonationRequest");
    }
    await expectAuditLogValid(t, world);
  });
});

describe("approving while the requester is disabled", () => {
  /** After the race (whoever won): the request is EXPIRED and never yields a token, even once the requester is back. */
  async function expectVoidedForGood(requester: Member, requestId: string) {
    const request = await requestById(t, world, requestId);
    expect(request.status).toBe("EXPIRED");
    // The disabled requester's key no longer works at all.
    expectCode(await tokenFromRequest(t, requester.credential, request), "UNAUTHENTICATED");

    expectOk(await updateMember(requester.id, { disabled: false }));
    expect(await statusOf(t, world, requestId)).toBe("EXPIRED");
    const refused = await tokenFromRequest(t, requester.credential, request);
    expectCode(refused, "IMPERSONATION_REQUEST_NOT_APPROVED");
    await expectOneEventPerCall(t, [refused], "CreateImpersonationToken");
    expectCode(await approve(t, approver.credential, requestId), "IMPERSONATION_REQUEST_ALREADY_DECIDED");
    expect(await countRows(t, "impersonation_tokens", "impersonation_request_id = ?", [requestId])).toBe(0);
  }

  it("approved, then disabled: the kill switch expires the approval", async () => {
    const requester = await newMember(t, world, "DEVELOPER");
    const request = await approvedRequest(requester);
    const disabled = await updateMember(requester.id, { disabled: true });
    expectOk(disabled);
    await expectOneEventPerCall(t, [disabled], "UpdateTeamMember");
    await expectVoidedForGood(requester, request.id);
  });

  it("disabled, then approved: the approval is refused with IMPERSONATION_REQUEST_ALREADY_DECIDED", async () => {
    const requester = await newMember(t, world, "DEVELOPER");
    const request = await openRequest(t, world, requester);
    expectOk(await updateMember(requester.id, { disabled: true }));
    const refused = await approve(t, approver.credential, request.id);
    expectCode(refused, "IMPERSONATION_REQUEST_ALREADY_DECIDED");
    await expectOneEventPerCall(t, [refused], "ApproveImpersonationRequest");
    await expectVoidedForGood(requester, request.id);
  });

  it("demoted to VIEWER, then approved: refused too, and promoting back does not revive it", async () => {
    const requester = await newMember(t, world, "DEVELOPER");
    const request = await openRequest(t, world, requester);
    expectOk(await updateMember(requester.id, { role: "VIEWER" }));
    expect(await statusOf(t, world, request.id)).toBe("EXPIRED");
    expectCode(await approve(t, approver.credential, request.id), "IMPERSONATION_REQUEST_ALREADY_DECIDED");
    expectOk(await updateMember(requester.id, { role: "DEVELOPER" }));
    expectCode(await tokenFromRequest(t, requester.credential, request), "IMPERSONATION_REQUEST_NOT_APPROVED");
  });

  it("20 approvals racing the disabling: never APPROVED and usable, whoever wins", async () => {
    for (const round of range(3)) {
      const requester = await newMember(t, world, "SUPPORT_MANAGER");
      const request = await openRequest(t, world, requester);
      // The disabling is sent among the approvals, earlier each round.
      const disableAt = 15 - round * 7;
      const calls = range(21).map((i): Promise<GraphQLResponse<unknown>> => (i === disableAt ? updateMember(requester.id, { disabled: true }) : approve(t, approver.credential, request.id)));
      const results = await Promise.all(calls);

      const disabled = results[disableAt]!;
      expectOk(disabled);
      const approvals = results.filter((_, i) => i !== disableAt);
      const codes = tally(outcomes(approvals));
      // Either an approval won before the kill switch (which then expired it), or none did.
      expect(codes.OK ?? 0).toBeLessThanOrEqual(1);
      expect(codes).toEqual({ ...(codes.OK ? { OK: 1 } : {}), IMPERSONATION_REQUEST_ALREADY_DECIDED: 20 - (codes.OK ?? 0) });
      await expectOneEventPerCall(t, approvals, "ApproveImpersonationRequest");
      await expectOneEventPerCall(t, [disabled], "UpdateTeamMember");
      await expectVoidedForGood(requester, request.id);
    }
    await expectAuditLogValid(t, world);
  });
});

describe("the requester's calls in flight while it is disabled", () => {
  it("leave no request and no token that re-enabling would bring back", async () => {
    for (const round of range(3)) {
      const requester = await newMember(t, world, "DEVELOPER");
      const approvedOne = await approvedRequest(requester);
      // Requests, plain token creations and creations from the approval, all authenticated before
      // the disabling commits; the disabling is sent among them, earlier each round.
      const disableAt = 12 - round * 5;
      const kinds = range(16).map((i) => (i === disableAt ? "disable" : (["request", "token", "fromRequest"] as const)[i % 3]!));
      const results = await Promise.all(
        kinds.map((kind): Promise<GraphQLResponse<any>> => {
          if (kind === "disable") return updateMember(requester.id, { disabled: true });
          if (kind === "request") return requestImpersonation(t, world, requester.credential);
          if (kind === "token") return createModeToken(t, requester.credential, { projectId: world.projectId, userId: world.userId });
          return tokenFromRequest(t, requester.credential, approvedOne);
        }),
      );
      expectOk(results[disableAt]!);
      expectOk(await updateMember(requester.id, { disabled: false }));

      // Whatever succeeded before the switch was voided by it; whatever came after was refused.
      for (const [i, result] of results.entries()) {
        if (result.errors || kinds[i] === "disable") continue;
        if (kinds[i] === "request") {
          const id = result.data.requestImpersonation.id as string;
          expect(await statusOf(t, world, id), "a request made while the requester was being disabled").toBe("EXPIRED");
          expectCode(await approve(t, approver.credential, id), "IMPERSONATION_REQUEST_ALREADY_DECIDED");
        } else {
          expectCode(await exchange(t, world.backend, result.data.createImpersonationToken.token), "IMPERSONATION_TOKEN_NOT_FOUND");
        }
      }
      for (const kind of ["request", "token", "fromRequest"] as const) {
        const codes = outcomes(results.filter((_, i) => kinds[i] === kind));
        for (const code of codes) expect(["OK", "FORBIDDEN", "UNAUTHENTICATED", "IMPERSONATION_REQUEST_NOT_APPROVED"]).toContain(code);
      }
      expect(["EXPIRED", "USED"]).toContain(await statusOf(t, world, approvedOne.id));
    }
    await expectAuditLogValid(t, world);
  });
});

describe("creating tokens from one approval concurrently", () => {
  it("of 30 concurrent creations exactly one gets a token; the others are IMPERSONATION_REQUEST_NOT_APPROVED", async () => {
    const request = await approvedRequest();
    const results = await Promise.all(range(30).map(() => tokenFromRequest(t, world.supportManager.credential, request)));

    expect(tally(outcomes(results))).toEqual({ OK: 1, IMPERSONATION_REQUEST_NOT_APPROVED: 29 });
    expect(await countRows(t, "impersonation_tokens", "impersonation_request_id = ?", [request.id])).toBe(1);
    expect(await statusOf(t, world, request.id)).toBe("USED");
    const events = await expectOneEventPerCall(t, results, "CreateImpersonationToken");
    for (const event of events) expect(event).toMatchObject({ impersonation_request_id: request.id, mode: request.mode });

    // The one token starts one session, in the request's mode; the approval is gone.
    const token = (results[indexOfSuccess(results)]!.data as { createImpersonationToken: { token: string } }).createImpersonationToken.token;
    expect(expectOk(await exchange(t, world.backend, token)).authenticateImpersonationToken.session.mode).toBe(request.mode);
    expectCode(await tokenFromRequest(t, world.supportManager.credential, request), "IMPERSONATION_REQUEST_NOT_APPROVED");
    await expectAuditLogValid(t, world);
  });
});

describe("turning the policy off", () => {
  afterEach(async () => {
    await setSafetyPolicy(t, world, { allowImpersonation: true });
  });

  async function openRequestIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const status of ["PENDING", "APPROVED"] as const) {
      const page = (await gqlOk(t.url, world.viewer.credential, ImpersonationRequestsDocument, { projectId: world.projectId, status, first: 500 })).impersonationRequests;
      ids.push(...page.edges.map((edge) => edge.node.id));
    }
    return ids;
  }

  it("expires pending and approved requests (denied and used ones stay), and turning it on revives none", async () => {
    const pending = await openRequest(t, world);
    const approved = await approvedRequest();
    const denied = await openRequest(t, world);
    expectOk(await deny(t, approver.credential, denied.id));
    const used = await approvedRequest();
    const { token: usedToken } = expectOk(await tokenFromRequest(t, world.supportManager.credential, used)).createImpersonationToken;

    // Earlier tests left open requests in the project too: the switch expires those as well.
    const open = (await openRequestIds()).sort();
    expect(open).toEqual(expect.arrayContaining([pending.id, approved.id]));

    const off = await setPolicyCall({ allowImpersonation: false });
    expectOk(off);
    const [policyEvent] = await expectOneEventPerCall(t, [off], "SetImpersonationPolicy");
    expect(JSON.parse(policyEvent!.details!)).toMatchObject({ expiredRequests: open.length });
    expect(await openRequestIds()).toEqual([]);
    await setSafetyPolicy(t, world, { allowImpersonation: true });

    expect(await statusOf(t, world, pending.id)).toBe("EXPIRED");
    expect(await statusOf(t, world, approved.id)).toBe("EXPIRED");
    expect(await statusOf(t, world, denied.id)).toBe("DENIED");
    expect(await statusOf(t, world, used.id)).toBe("USED");
    expectCode(await approve(t, approver.credential, pending.id), "IMPERSONATION_REQUEST_ALREADY_DECIDED");
    expectCode(await deny(t, approver.credential, pending.id), "IMPERSONATION_REQUEST_ALREADY_DECIDED");
    expectCode(await tokenFromRequest(t, world.supportManager.credential, approved), "IMPERSONATION_REQUEST_NOT_APPROVED");
    // The token made from the used request was voided with the project's other tokens.
    expectCode(await exchange(t, world.backend, usedToken), "IMPERSONATION_TOKEN_NOT_FOUND");
    await expectAuditLogValid(t, world);
  });

  it("racing approvals and token creations: no approval or token outlives the switch", async () => {
    const pending = await openRequest(t, world);
    const approved = await approvedRequest();
    const calls: Array<{ kind: "approve" | "token" | "off"; result: Promise<GraphQLResponse<unknown>> }> = [];
    for (const i of range(21)) {
      if (i === 10) calls.push({ kind: "off", result: setPolicyCall({ allowImpersonation: false }) });
      else if (i % 2 === 0) calls.push({ kind: "approve", result: approve(t, approver.credential, pending.id) });
      else calls.push({ kind: "token", result: tokenFromRequest(t, world.supportManager.credential, approved) });
    }
    const results = await Promise.all(calls.map((call) => call.result));
    const of = (kind: string) => results.filter((_, i) => calls[i]!.kind === kind);

    expectOk(of("off")[0]!);
    const approveCodes = tally(outcomes(of("approve")));
    expect(approveCodes.OK ?? 0).toBeLessThanOrEqual(1);
    expect(Object.keys(approveCodes).filter((code) => code !== "OK")).toEqual(["IMPERSONATION_REQUEST_ALREADY_DECIDED"]);
    const tokenCodes = tally(outcomes(of("token")));
    expect(tokenCodes.OK ?? 0).toBeLessThanOrEqual(1);
    for (const code of Object.keys(tokenCodes)) expect(["OK", "IMPERSONATION_REQUEST_NOT_APPROVED", "IMPERSONATION_DISABLED"]).toContain(code);
    await expectOneEventPerCall(t, of("approve"), "ApproveImpersonationRequest");
    await expectOneEventPerCall(t, of("token"), "CreateImpersonationToken");
    await expectOneEventPerCall(t, of("off"), "SetImpersonationPolicy");

    await setSafetyPolicy(t, world, { allowImpersonation: true });
    expect(await statusOf(t, world, pending.id)).toBe("EXPIRED");
    expect(["EXPIRED", "USED"]).toContain(await statusOf(t, world, approved.id));
    expectCode(await tokenFromRequest(t, world.supportManager.credential, approved), "IMPERSONATION_REQUEST_NOT_APPROVED");
    // A token that won before the switch was voided by it.
    const rows = await sql<{ voided_at: unknown; used_at: unknown }>(t, "select voided_at, used_at from impersonation_tokens where impersonation_request_id = ?", [approved.id]);
    expect(rows).toHaveLength(tokenCodes.OK ?? 0);
    for (const row of rows) expect(row).toMatchObject({ used_at: null, voided_at: expect.anything() });
    await expectAuditLogValid(t, world);
  });
});
