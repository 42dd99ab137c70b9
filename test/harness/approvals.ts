import { expect } from "vitest";
import {
  ApproveImpersonationRequestDocument,
  CreateTokenWithModeDocument,
  DenyImpersonationRequestDocument,
  ExchangeForModeDocument,
  ImpersonationRequestsDocument,
  RequestImpersonationDocument,
  SetSafetyPolicyDocument,
  VerifyAuditLogDocument,
  VerifyInstallWideAuditLogDocument,
  type ImpersonationMode,
  type ImpersonationPolicyInput,
  type ImpersonationRequestFieldsFragment,
  type ImpersonationRequestStatus,
} from "../__generated__/graphql.js";
import { gql, gqlOk, type Credential, type GraphQLResponse } from "./client.js";
import { auditRows, expectOk, type AuditRow } from "./core-operations.js";
import type { Member, World } from "./fixtures.js";
import type { TestApp } from "./test-app.js";

/** Four-eyes approval (SPEC §9) through the real endpoint: the steps the approval test files share. */

export const defaultReason = "Customer reports a blank dashboard";

export type RequestView = ImpersonationRequestFieldsFragment;

export interface RequestArgs {
  projectId?: string;
  userId?: string;
  reason?: string;
  mode?: ImpersonationMode | null;
}

export function requestImpersonation(t: TestApp, world: World, credential: Credential, args: RequestArgs = {}) {
  return gql(t.url, credential, RequestImpersonationDocument, {
    input: { projectId: args.projectId ?? world.projectId, userId: args.userId ?? world.userId, reason: args.reason ?? defaultReason, mode: args.mode },
  });
}

/** A PENDING request by `member` (the world's SUPPORT_MANAGER by default). */
export async function openRequest(t: TestApp, world: World, member: Member = world.supportManager, args: RequestArgs = {}): Promise<RequestView> {
  return expectOk(await requestImpersonation(t, world, member.credential, args)).requestImpersonation;
}

export function approve(t: TestApp, credential: Credential, id: string) {
  return gql(t.url, credential, ApproveImpersonationRequestDocument, { id });
}

export function deny(t: TestApp, credential: Credential, id: string, reason = "Not for this ticket") {
  return gql(t.url, credential, DenyImpersonationRequestDocument, { id, reason });
}

/** createImpersonationToken from a request, repeating its user and reason unless told otherwise. */
export function tokenFromRequest(
  t: TestApp,
  credential: Credential,
  request: Pick<RequestView, "id" | "projectId" | "userId" | "reason">,
  overrides: { projectId?: string; userId?: string; reason?: string; mode?: ImpersonationMode | null } = {},
) {
  return gql(t.url, credential, CreateTokenWithModeDocument, {
    input: {
      projectId: overrides.projectId ?? request.projectId,
      userId: overrides.userId ?? request.userId,
      reason: overrides.reason ?? request.reason,
      mode: overrides.mode,
      requestId: request.id,
    },
  });
}

/** createImpersonationToken without a request. */
export function createModeToken(t: TestApp, credential: Credential, input: { projectId: string; userId: string; reason?: string; mode?: ImpersonationMode | null }) {
  return gql(t.url, credential, CreateTokenWithModeDocument, { input: { ...input, reason: input.reason ?? defaultReason } });
}

export function exchange(t: TestApp, backend: Credential, token: string) {
  return gql(t.url, backend, ExchangeForModeDocument, { token });
}

export async function setSafetyPolicy(t: TestApp, world: World, input: ImpersonationPolicyInput, projectId = world.projectId) {
  return (await gqlOk(t.url, world.admin.credential, SetSafetyPolicyDocument, { projectId, input })).setImpersonationPolicy;
}

/** A request as a reader sees it now (its effective status), found through impersonationRequests. */
export async function requestById(t: TestApp, world: World, id: string, projectId = world.projectId): Promise<RequestView> {
  let after: string | null = null;
  for (;;) {
    const page: Awaited<ReturnType<typeof listPage>> = await listPage(t, world, projectId, after);
    const found = page.edges.find((edge) => edge.node.id === id);
    if (found) return found.node;
    if (!page.pageInfo.hasNextPage) throw new Error(`impersonation request ${id} is not listed`);
    after = page.pageInfo.endCursor ?? null;
  }
}

async function listPage(t: TestApp, world: World, projectId: string, after: string | null) {
  return (await gqlOk(t.url, world.viewer.credential, ImpersonationRequestsDocument, { projectId, first: 500, after })).impersonationRequests;
}

export async function statusOf(t: TestApp, world: World, id: string, projectId = world.projectId): Promise<ImpersonationRequestStatus> {
  return (await requestById(t, world, id, projectId)).status;
}

/** The audit request id the server sent back for a call (`x-request-id`, SPEC §10). */
export function requestIdOf(response: GraphQLResponse<unknown>): string {
  const id = response.headers.get("x-request-id");
  expect(id, "x-request-id header").toBeTruthy();
  return id!;
}

/**
 * Asserts that every call left exactly one audit event of its own with `action` (SUCCESS for a call
 * that succeeded, FAILURE with its code otherwise), and no other event of that action; returns them
 * in call order.
 */
export async function expectOneEventPerCall(t: TestApp, responses: GraphQLResponse<unknown>[], action: string): Promise<AuditRow[]> {
  if (responses.length === 0) return [];
  const ids = responses.map(requestIdOf);
  const rows = await auditRows(t, `action = ? and request_id in (${ids.map(() => "?").join(", ")})`, [action, ...ids]);
  return responses.map((response, i) => {
    const own = rows.filter((row) => row.request_id === ids[i]);
    expect(own, `${action} events of one call`).toHaveLength(1);
    const code = response.errors?.[0]?.extensions?.code ?? null;
    expect({ status: own[0]!.status, errorCode: own[0]!.error_code }).toEqual(code === null ? { status: "SUCCESS", errorCode: null } : { status: "FAILURE", errorCode: code });
    return own[0]!;
  });
}

/** Every project's chain named, and the install-wide one, verify. */
export async function expectAuditLogValid(t: TestApp, world: World, projectIds: string[] = [world.projectId]): Promise<void> {
  for (const projectId of projectIds) {
    const result = (await gqlOk(t.url, world.admin.credential, VerifyAuditLogDocument, { projectId })).verifyAuditLog;
    expect(result, `audit chain of ${projectId}`).toMatchObject({ valid: true, firstInvalidEventId: null });
  }
  expect((await gqlOk(t.url, world.admin.credential, VerifyInstallWideAuditLogDocument, {})).verifyAuditLog.valid).toBe(true);
}

/** The error code of each response, "OK" for a success. */
export function outcomes(responses: GraphQLResponse<unknown>[]): string[] {
  return responses.map((response) => response.errors?.[0]?.extensions?.code ?? "OK");
}

/** How many of `values` equal each distinct value. */
export function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
