import { describe, expect, it } from "vitest";
import {
  AnyAuditLogDocument,
  ApproveImpersonationRequestDocument,
  AuthenticateTokenDocument,
  CreateImpersonationTokenDocument,
  CreateMemberDocument,
  DenyImpersonationRequestDocument,
  RequestImpersonationDocument,
  RevokeSessionDocument,
  RotateProjectSecretDocument,
  RotatePublicTokenDocument,
  RotateTeamMemberApiKeyDocument,
  SetPolicyDocument,
  UpdateMemberDocument,
  UpdateProjectDocument,
  UpdateUserDocument,
  VerifyAnyAuditLogDocument,
  type AnyAuditLogQuery,
} from "./__generated__/graphql.js";
import { gql, gqlOk, type Credential, type GraphQLResponse } from "./harness/client.js";
import { auditRows, countRows, createToken, expectCode, openSession, unique, type AuditRow } from "./harness/core-operations.js";
import { openRequest } from "./harness/approvals.js";
import { useTestWorld } from "./harness/test-world.js";

/*
 * Where the event of a refused call lands (SPEC §4.5, §8): the project a refused call names is only
 * what its caller typed. A backend or frontend records it in its own project's log, never in another
 * project's, a made-up project's or the install-wide one; a member in the named project's log when
 * that project exists, otherwise in the install-wide log, never starting a chain for a project that
 * does not exist.
 */

const { t, world } = useTestWorld();

type EventNode = AnyAuditLogQuery["auditEvents"]["edges"][number]["node"];

/** A log (null: the install-wide one) as the ADMIN reads it through the API, newest first. */
async function eventsOf(projectId: string | null): Promise<EventNode[]> {
  const data = await gqlOk(t.url, world.admin.credential, AnyAuditLogDocument, { projectId, first: 500 });
  return data.auditEvents.edges.map((edge) => edge.node);
}

async function verified(projectId: string | null): Promise<{ valid: boolean; checkedCount: number }> {
  return (await gqlOk(t.url, world.admin.credential, VerifyAnyAuditLogDocument, { projectId })).verifyAuditLog;
}

/** What the victim's log and the install-wide log look like: compared before and after each attempt. */
async function snapshot() {
  const victim = await eventsOf(world.projectId);
  const installWide = await eventsOf(null);
  return { victim: victim.map((e) => e.id), installWide: installWide.map((e) => e.id) };
}

async function expectUntouched(before: Awaited<ReturnType<typeof snapshot>>) {
  const after = await snapshot();
  expect(after.victim).toEqual(before.victim);
  expect(after.installWide).toEqual(before.installWide);
  expect(await verified(world.projectId)).toMatchObject({ valid: true, checkedCount: before.victim.length });
  expect(await verified(null)).toMatchObject({ valid: true, checkedCount: before.installWide.length });
}

/** The one event the call left, found by its request id (the response's x-request-id), anywhere. */
async function theEventOf(result: GraphQLResponse<unknown>): Promise<AuditRow> {
  const requestId = result.headers.get("x-request-id");
  expect(requestId).toBeTruthy();
  const rows = await auditRows(t, "request_id = ?", [requestId]);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

function detailsOf(event: { details: string | null }): Record<string, unknown> | null {
  return event.details === null ? null : JSON.parse(event.details);
}

/** The call's event, as its log's reader sees it through the API; the log verifies. */
async function inLogOf(projectId: string | null, result: GraphQLResponse<unknown>): Promise<EventNode> {
  const row = await theEventOf(result);
  expect(row.project_id).toBe(projectId ?? "");
  const node = (await eventsOf(projectId)).find((event) => event.requestId === row.request_id);
  expect(node).toBeDefined();
  expect((await verified(projectId)).valid).toBe(true);
  return node!;
}

interface Attempt {
  operation: string;
  /** Fixtures of the victim project the call names (a request, a token, a session), made first. */
  prepare?(): Promise<string>;
  /** The call against the world's project (the victim), as `credential`. */
  call(credential: Credential, marker: string, prepared: string): Promise<GraphQLResponse<unknown>>;
  /** The code a backend and a frontend of another project get. */
  codes: { backend: string; frontend: string };
  /** Whether the arguments name the victim's project (recorded then as requestedProjectId). */
  namesProject: boolean;
}

const FORBIDDEN = { backend: "FORBIDDEN", frontend: "FORBIDDEN" };

/** Every audited mutation, aimed at the victim project. */
const attempts: Attempt[] = [
  {
    operation: "setImpersonationPolicy",
    call: (c) => gql(t.url, c, SetPolicyDocument, { projectId: world.projectId, input: { allowFrontendAuthentication: true } }),
    codes: FORBIDDEN,
    namesProject: true,
  },
  {
    operation: "createImpersonationToken",
    call: (c, marker) =>
      gql(t.url, c, CreateImpersonationTokenDocument, {
        input: { projectId: world.projectId, userId: world.userId, reason: marker, mode: "READ_WRITE", requestId: "impreq-forged" },
      }),
    codes: FORBIDDEN,
    namesProject: true,
  },
  {
    operation: "requestImpersonation",
    call: (c, marker) =>
      gql(t.url, c, RequestImpersonationDocument, {
        input: { projectId: world.projectId, userId: world.userId, reason: marker, mode: "READ_WRITE" },
      }),
    codes: FORBIDDEN,
    namesProject: true,
  },
  {
    operation: "approveImpersonationRequest",
    prepare: async () => (await openRequest(t, world)).id,
    call: (c, _marker, id) => gql(t.url, c, ApproveImpersonationRequestDocument, { id }),
    codes: FORBIDDEN,
    namesProject: false,
  },
  {
    operation: "denyImpersonationRequest",
    prepare: async () => (await openRequest(t, world)).id,
    call: (c, marker, id) => gql(t.url, c, DenyImpersonationRequestDocument, { id, reason: marker }),
    codes: FORBIDDEN,
    namesProject: false,
  },
  {
    operation: "updateProject",
    call: (c, marker) => gql(t.url, c, UpdateProjectDocument, { id: world.projectId, input: { name: marker } }),
    codes: FORBIDDEN,
    namesProject: true,
  },
  {
    operation: "rotateProjectSecret",
    call: (c) => gql(t.url, c, RotateProjectSecretDocument, { projectId: world.projectId }),
    codes: FORBIDDEN,
    namesProject: true,
  },
  {
    operation: "rotatePublicToken",
    call: (c) => gql(t.url, c, RotatePublicTokenDocument, { projectId: world.projectId }),
    codes: FORBIDDEN,
    namesProject: true,
  },
  {
    // The backend passes the matrix (it may update its own users) and is refused by the service.
    operation: "updateUser",
    call: (c, marker) =>
      gql(t.url, c, UpdateUserDocument, { projectId: world.projectId, id: world.userId, input: { name: marker } }),
    codes: FORBIDDEN,
    namesProject: true,
  },
  {
    operation: "createTeamMember",
    call: (c, marker) =>
      gql(t.url, c, CreateMemberDocument, { input: { email: `${marker}@example.com`, role: "ADMIN" } }),
    codes: FORBIDDEN,
    namesProject: false,
  },
  {
    operation: "updateTeamMember",
    call: (c) => gql(t.url, c, UpdateMemberDocument, { id: world.admin.id, input: { disabled: true } }),
    codes: FORBIDDEN,
    namesProject: false,
  },
  {
    operation: "rotateTeamMemberApiKey",
    call: (c) => gql(t.url, c, RotateTeamMemberApiKeyDocument, { id: world.admin.id }),
    codes: FORBIDDEN,
    namesProject: false,
  },
  {
    // Already in the caller's project before this fix (inEventProject): kept here as a regression check.
    operation: "authenticateImpersonationToken",
    prepare: async () => (await createToken(t, world)).token,
    call: (c, _marker, token) => gql(t.url, c, AuthenticateTokenDocument, { token }),
    codes: { backend: "IMPERSONATION_TOKEN_NOT_FOUND", frontend: "IMPERSONATION_TOKEN_NOT_FOUND" },
    namesProject: false,
  },
  {
    operation: "revokeSession",
    prepare: async () => (await openSession(t, world)).session.id,
    call: (c, _marker, id) => gql(t.url, c, RevokeSessionDocument, { sessionId: id }),
    codes: { backend: "SESSION_NOT_FOUND", frontend: "FORBIDDEN" },
    namesProject: false,
  },
];

describe("a refused call of another project's credential", () => {
  it("the reproduction: another project's public token forging a token request leaves the victim's log untouched", async () => {
    const before = await snapshot();
    const reason = "Approved by CISO - ticket SEC-1 (forged)";
    const result = await gql(t.url, world.other.frontend, CreateImpersonationTokenDocument, {
      input: { projectId: world.projectId, userId: world.userId, reason, mode: "READ_WRITE", requestId: "impreq-forged" },
    });
    expectCode(result, "FORBIDDEN");
    await expectUntouched(before);
    expect(await countRows(t, "audit_events", "project_id = ? and reason = ?", [world.projectId, reason])).toBe(0);

    // Recorded in the caller's own log, where its own text does no harm, with what it asked for.
    const event = await inLogOf(world.other.projectId, result);
    expect(event).toMatchObject({
      action: "CreateImpersonationToken",
      status: "FAILURE",
      errorCode: "FORBIDDEN",
      actorType: "frontend",
      actorId: world.other.projectId,
      reason,
      impersonationRequestId: "impreq-forged",
    });
    expect(detailsOf(event)).toEqual({ requestedProjectId: world.projectId });
  });

  for (const attempt of attempts) {
    for (const kind of ["backend", "frontend"] as const) {
      it(`${attempt.operation} by the ${kind}: recorded in its own project's log, not the named one`, async () => {
        const credential = world.other[kind];
        const marker = unique("forged");
        const prepared = (await attempt.prepare?.()) ?? "";
        const before = await snapshot();
        const result = await attempt.call(credential, marker, prepared);
        expectCode(result, attempt.codes[kind]);
        await expectUntouched(before);
        expect(await countRows(t, "audit_events", "project_id <> ? and (reason = ? or details like ?)", [world.other.projectId, marker, `%${marker}%`])).toBe(0);

        const event = await inLogOf(world.other.projectId, result);
        expect(event).toMatchObject({ status: "FAILURE", errorCode: attempt.codes[kind], actorType: kind, actorId: world.other.projectId });
        if (attempt.namesProject) expect(detailsOf(event)).toMatchObject({ requestedProjectId: world.projectId });
        // Nothing the victim's rows say (its request's reason, its user) reaches the caller's log.
        if (attempt.operation.endsWith("ImpersonationRequest")) expect(event).toMatchObject({ userId: null, reason: null, mode: null });
      });
    }
  }

  it("naming the install-wide log (projectId \"\") or a made-up project: recorded in the caller's own log", async () => {
    for (const credential of [world.other.frontend, world.other.backend]) {
      for (const projectId of ["", unique("project-does-not-exist")]) {
        const before = await snapshot();
        const result = await gql(t.url, credential, SetPolicyDocument, { projectId, input: { allowImpersonation: false } });
        expectCode(result, "FORBIDDEN");
        await expectUntouched(before);
        if (projectId) expect(await countRows(t, "audit_events", "project_id = ?", [projectId])).toBe(0);
        const event = await inLogOf(world.other.projectId, result);
        expect(event).toMatchObject({ action: "SetImpersonationPolicy", status: "FAILURE", errorCode: "FORBIDDEN" });
        expect(detailsOf(event)).toEqual({ requestedProjectId: projectId });
      }
    }
  });
});

describe("a refused call of a member naming a project", () => {
  const unknownProjectCalls: Array<{ operation: string; credential: () => Credential; code: string; call: (c: Credential, p: string, marker: string) => Promise<GraphQLResponse<unknown>> }> = [
    {
      operation: "setImpersonationPolicy (VIEWER)",
      credential: () => world.viewer.credential,
      code: "FORBIDDEN",
      call: (c, p) => gql(t.url, c, SetPolicyDocument, { projectId: p, input: { allowImpersonation: true } }),
    },
    {
      operation: "setImpersonationPolicy (ADMIN)",
      credential: () => world.admin.credential,
      code: "NOT_FOUND",
      call: (c, p) => gql(t.url, c, SetPolicyDocument, { projectId: p, input: { allowImpersonation: true } }),
    },
    {
      operation: "createImpersonationToken (SUPPORT_MANAGER)",
      credential: () => world.supportManager.credential,
      code: "NOT_FOUND",
      call: (c, p, marker) =>
        gql(t.url, c, CreateImpersonationTokenDocument, { input: { projectId: p, userId: world.userId, reason: marker } }),
    },
    {
      operation: "requestImpersonation (DEVELOPER)",
      credential: () => world.developer.credential,
      code: "NOT_FOUND",
      call: (c, p, marker) =>
        gql(t.url, c, RequestImpersonationDocument, { input: { projectId: p, userId: world.userId, reason: marker } }),
    },
    {
      operation: "updateProject (ADMIN)",
      credential: () => world.admin.credential,
      code: "NOT_FOUND",
      call: (c, p, marker) => gql(t.url, c, UpdateProjectDocument, { id: p, input: { name: marker } }),
    },
    {
      operation: "rotateProjectSecret (ADMIN)",
      credential: () => world.admin.credential,
      code: "NOT_FOUND",
      call: (c, p) => gql(t.url, c, RotateProjectSecretDocument, { projectId: p }),
    },
    {
      operation: "rotatePublicToken (ADMIN)",
      credential: () => world.admin.credential,
      code: "NOT_FOUND",
      call: (c, p) => gql(t.url, c, RotatePublicTokenDocument, { projectId: p }),
    },
    {
      operation: "updateUser (DEVELOPER)",
      credential: () => world.developer.credential,
      code: "NOT_FOUND",
      call: (c, p, marker) => gql(t.url, c, UpdateUserDocument, { projectId: p, id: world.userId, input: { name: marker } }),
    },
  ];

  for (const { operation, credential, code, call } of unknownProjectCalls) {
    it(`${operation} for a project that does not exist: in the install-wide log, no chain started`, async () => {
      // Long enough to be clipped in the details (ids are at most 64 characters).
      const projectId = `${unique("project-does-not-exist")}-${"x".repeat(80)}`;
      const before = await snapshot();
      const result = await call(credential(), projectId, unique("marker"));
      expectCode(result, code);
      expect(await countRows(t, "audit_events", "project_id like ?", [`${projectId.slice(0, 30)}%`])).toBe(0);
      const event = await inLogOf(null, result);
      expect(event).toMatchObject({ status: "FAILURE", errorCode: code, actorType: "member" });
      expect(detailsOf(event)).toMatchObject({ requestedProjectId: projectId.slice(0, 64) });
      // The victim project's log is untouched; the install-wide one has exactly this one more event.
      const after = await snapshot();
      expect(after.victim).toEqual(before.victim);
      expect(after.installWide).toEqual([event.id, ...before.installWide]);
    });
  }

  it('setImpersonationPolicy(projectId: "") by a VIEWER: in the install-wide log', async () => {
    const before = await snapshot();
    const result = await gql(t.url, world.viewer.credential, SetPolicyDocument, { projectId: "", input: { allowImpersonation: true } });
    expectCode(result, "FORBIDDEN");
    const event = await inLogOf(null, result);
    expect(event).toMatchObject({ action: "SetImpersonationPolicy", status: "FAILURE", errorCode: "FORBIDDEN", actorType: "member", actorId: world.viewer.id });
    const after = await snapshot();
    expect(after.victim).toEqual(before.victim);
    expect(after.installWide).toEqual([event.id, ...before.installWide]);
  });
});

describe("a refusal inside one's own project", () => {
  it("is audited in that project's log as before", async () => {
    // A member refused in a project that exists: in that project's log, with what it asked for.
    const reason = unique("viewer attempt");
    const byViewer = await gql(t.url, world.viewer.credential, CreateImpersonationTokenDocument, {
      input: { projectId: world.projectId, userId: world.userId, reason },
    });
    expectCode(byViewer, "FORBIDDEN");
    const viewerEvent = await inLogOf(world.projectId, byViewer);
    expect(viewerEvent).toMatchObject({ action: "CreateImpersonationToken", status: "FAILURE", errorCode: "FORBIDDEN", reason, userId: world.userId, actorType: "member", details: null });

    // The project's own frontend and backend, refused in their own project.
    const byFrontend = await gql(t.url, world.frontend, SetPolicyDocument, { projectId: world.projectId, input: { allowImpersonation: false } });
    expectCode(byFrontend, "FORBIDDEN");
    expect(await inLogOf(world.projectId, byFrontend)).toMatchObject({ action: "SetImpersonationPolicy", status: "FAILURE", actorType: "frontend", actorId: world.projectId, details: null });

    const byBackend = await gql(t.url, world.backend, UpdateUserDocument, { projectId: world.projectId, id: world.userId, input: { protected: true } });
    expectCode(byBackend, "FORBIDDEN");
    expect(await inLogOf(world.projectId, byBackend)).toMatchObject({ action: "UpdateUser", status: "FAILURE", actorType: "backend", userId: world.userId });
  });
});
