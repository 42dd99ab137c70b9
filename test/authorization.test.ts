import { describe, expect, it } from "vitest";
import { gql, type Credential, type GraphQLResponse } from "./harness/client.js";
import {
  AUTHENTICATE_SESSION,
  AUTHENTICATE_TOKEN,
  auditRows,
  codeOf,
  CREATE_MEMBER,
  CREATE_PROJECT,
  CREATE_TOKEN,
  CREATE_USER,
  createToken,
  expectCode,
  GET_POLICY,
  newMember,
  openSession,
  REVOKE_SESSION,
  SESSIONS,
  SET_POLICY,
  unique,
  UPDATE_MEMBER,
  USER,
  USERS,
} from "./harness/core-operations.js";
import { credentialOf as credentialFor, matrixCallers, wrongCredentialCallers } from "./harness/matrix-callers.js";
import { useTestWorld } from "./harness/test-world.js";

const { t, world } = useTestWorld();

/** The callers of SPEC §6, plus callers whose credential is missing or wrong. */
const actors = [...matrixCallers, ...wrongCredentialCallers] as const;
type ActorName = (typeof actors)[number];
const credentialOf = (actor: ActorName) => credentialFor(world, actor);

const Y = "allowed";
const F = "FORBIDDEN";
/** What the caller gets: allowed, or the exact error code. */
type Outcome = string;
type KnownCallers = Record<Exclude<ActorName, "anonymous" | "unknown API key" | "wrong project secret" | "unknown public token" | "unknown authorization scheme">, Outcome>;

interface Row {
  operation: string;
  /** Performs the operation as `credential` against the world's project, preparing fresh fixtures if needed. */
  call(credential: Credential): Promise<GraphQLResponse<any>>;
  outcomes: KnownCallers;
}

/**
 * SPEC §6, one row per operation. Callers without a valid credential always get UNAUTHENTICATED,
 * so those columns are added for every row. Where a backend or frontend names something outside its
 * own project, the specific code of SPEC §5 is expected (it must not learn the thing exists).
 */
const matrix: Row[] = [
  {
    operation: "setImpersonationPolicy",
    call: (c) => gql(t.url, c, SET_POLICY, { projectId: world.projectId, input: { tokenTtlSeconds: 300 } }),
    outcomes: { ADMIN: Y, DEVELOPER: F, SUPPORT_MANAGER: F, VIEWER: F, backend: F, "other project's backend": F, frontend: F },
  },
  {
    operation: "createImpersonationToken",
    call: (c) => gql(t.url, c, CREATE_TOKEN, { input: { projectId: world.projectId, userId: world.userId, reason: "Authorization matrix" } }),
    outcomes: { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: F, backend: F, "other project's backend": F, frontend: F },
  },
  {
    operation: "authenticateImpersonationToken (frontend authentication off)",
    call: async (c) => gql(t.url, c, AUTHENTICATE_TOKEN, { token: (await createToken(t, world)).token }),
    outcomes: {
      ADMIN: F,
      DEVELOPER: F,
      SUPPORT_MANAGER: F,
      VIEWER: F,
      backend: Y,
      "other project's backend": "IMPERSONATION_TOKEN_NOT_FOUND",
      frontend: "FRONTEND_AUTHENTICATION_DISABLED",
    },
  },
  {
    operation: "authenticateSession (with the session's token)",
    call: async (c) => gql(t.url, c, AUTHENTICATE_SESSION, { sessionToken: (await openSession(t, world)).sessionToken }),
    outcomes: { ADMIN: F, DEVELOPER: F, SUPPORT_MANAGER: F, VIEWER: F, backend: Y, "other project's backend": "SESSION_NOT_FOUND", frontend: Y },
  },
  {
    operation: "revokeSession (by sessionId)",
    call: async (c) => gql(t.url, c, REVOKE_SESSION, { sessionId: (await openSession(t, world)).session.id }),
    outcomes: { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: F, backend: Y, "other project's backend": "SESSION_NOT_FOUND", frontend: F },
  },
  {
    operation: "revokeSession (by the session's own token)",
    call: async (c) => gql(t.url, c, REVOKE_SESSION, { sessionToken: (await openSession(t, world)).sessionToken }),
    outcomes: { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: F, backend: Y, "other project's backend": "SESSION_NOT_FOUND", frontend: Y },
  },
  {
    operation: "sessions",
    call: (c) => gql(t.url, c, SESSIONS, { projectId: world.projectId }),
    outcomes: { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: Y, backend: Y, "other project's backend": F, frontend: F },
  },
  {
    operation: "createTeamMember",
    call: (c) => gql(t.url, c, CREATE_MEMBER, { input: { email: `${unique("member")}@example.com`, role: "VIEWER" } }),
    outcomes: { ADMIN: Y, DEVELOPER: F, SUPPORT_MANAGER: F, VIEWER: F, backend: F, "other project's backend": F, frontend: F },
  },
  {
    operation: "updateTeamMember",
    call: async (c) => gql(t.url, c, UPDATE_MEMBER, { id: (await newMember(t, world, "DEVELOPER")).id, input: { role: "SUPPORT_MANAGER" } }),
    outcomes: { ADMIN: Y, DEVELOPER: F, SUPPORT_MANAGER: F, VIEWER: F, backend: F, "other project's backend": F, frontend: F },
  },
  {
    operation: "createProject",
    call: (c) => gql(t.url, c, CREATE_PROJECT, { input: { name: unique("project"), loginRedirectUrl: "https://app.example.com/auth" } }),
    outcomes: { ADMIN: Y, DEVELOPER: F, SUPPORT_MANAGER: F, VIEWER: F, backend: F, "other project's backend": F, frontend: F },
  },
  {
    operation: "createUser",
    call: (c) => gql(t.url, c, CREATE_USER, { input: { projectId: world.projectId, email: `${unique("user")}@customer.com` } }),
    outcomes: { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: F, backend: Y, "other project's backend": F, frontend: F },
  },
  {
    operation: "users",
    call: (c) => gql(t.url, c, USERS, { projectId: world.projectId }),
    outcomes: { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: Y, backend: Y, "other project's backend": F, frontend: F },
  },
  {
    operation: "user",
    call: (c) => gql(t.url, c, USER, { projectId: world.projectId, id: world.userId }),
    outcomes: { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: Y, backend: Y, "other project's backend": F, frontend: F },
  },
  {
    operation: "impersonationPolicy",
    call: (c) => gql(t.url, c, GET_POLICY, { projectId: world.projectId }),
    outcomes: { ADMIN: Y, DEVELOPER: Y, SUPPORT_MANAGER: Y, VIEWER: Y, backend: Y, "other project's backend": F, frontend: F },
  },
];

function expectedOutcome(row: Row, actor: ActorName): Outcome {
  return actor in row.outcomes ? row.outcomes[actor as keyof KnownCallers] : "UNAUTHENTICATED";
}

describe("the authorization matrix (SPEC §6)", () => {
  for (const row of matrix) {
    describe(row.operation, () => {
      it.each(actors.map((actor) => ({ actor, outcome: expectedOutcome(row, actor) })))("$actor: $outcome", async ({ actor, outcome }) => {
        const result = await row.call(credentialOf(actor));
        if (outcome === Y) {
          expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
          const field = Object.keys(result.data ?? {})[0]!;
          expect(result.data![field]).toBeTruthy();
        } else {
          expectCode(result, outcome);
          // A nullable field (user) comes back as null; a non-null one nulls the whole data.
          expect(Object.values(result.data ?? {}).filter((value) => value !== null)).toEqual([]);
        }
      });
    });
  }

  it("lets the frontend exchange a token when the policy allows frontend authentication", async () => {
    const { token } = await createToken(t, world);
    await gql(t.url, world.admin.credential, SET_POLICY, { projectId: world.projectId, input: { allowFrontendAuthentication: true } });
    try {
      const result = await gql(t.url, world.frontend, AUTHENTICATE_TOKEN, { token });
      expect(result.errors).toBeUndefined();
      expect(result.data!.authenticateImpersonationToken.userId).toBe(world.userId);
      // Another project's frontend cannot use this project's token even when its own policy allows it.
      const other = await gql(t.url, world.other.frontend, AUTHENTICATE_TOKEN, { token: (await createToken(t, world)).token });
      expectCode(other, "IMPERSONATION_TOKEN_NOT_FOUND");
    } finally {
      await gql(t.url, world.admin.credential, SET_POLICY, { projectId: world.projectId, input: { allowFrontendAuthentication: false } });
    }
  });

  it("does not let another project's frontend authenticate or revoke this project's session with its token", async () => {
    const { sessionToken } = await openSession(t, world);
    expectCode(await gql(t.url, world.other.frontend, AUTHENTICATE_SESSION, { sessionToken }), "SESSION_NOT_FOUND");
    expectCode(await gql(t.url, world.other.frontend, REVOKE_SESSION, { sessionToken }), "SESSION_NOT_FOUND");
    // The session is untouched by the refused revocation.
    expect(codeOf(await gql(t.url, world.backend, AUTHENTICATE_SESSION, { sessionToken }))).toBeUndefined();
  });

  it("stops a disabled member's API key at once (UNAUTHENTICATED)", async () => {
    const member = await newMember(t, world, "DEVELOPER");
    expect(codeOf(await gql(t.url, member.credential, SESSIONS, { projectId: world.projectId }))).toBeUndefined();

    const disabled = await gql(t.url, world.admin.credential, UPDATE_MEMBER, { id: member.id, input: { disabled: true } });
    expect(disabled.errors).toBeUndefined();

    expectCode(await gql(t.url, member.credential, SESSIONS, { projectId: world.projectId }), "UNAUTHENTICATED");
    expectCode(
      await gql(t.url, member.credential, CREATE_TOKEN, { input: { projectId: world.projectId, userId: world.userId, reason: "after disabling" } }),
      "UNAUTHENTICATED",
    );
  });

  it("records a VIEWER's refused createImpersonationToken as a FAILURE audit event with errorCode FORBIDDEN", async () => {
    const reason = unique("viewer attempt");
    const result = await gql(t.url, world.viewer.credential, CREATE_TOKEN, { input: { projectId: world.projectId, userId: world.userId, reason } });
    expectCode(result, "FORBIDDEN");

    const events = await auditRows(t, "action = ? and impersonator_id = ? and reason = ?", ["CreateImpersonationToken", world.viewer.id, reason]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      project_id: world.projectId,
      status: "FAILURE",
      error_code: "FORBIDDEN",
      event_type: null,
      user_id: world.userId,
      actor_type: "member",
    });
  });
});
