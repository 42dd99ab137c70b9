import type { DocumentNode } from "graphql";
import { describe, expect, it } from "vitest";
import { AuditEventsDocument, VerifyAuditLogDocument } from "./__generated__/graphql.js";
import { credentialHeaders, gql, type Credential, type GraphQLResponse } from "./harness/client.js";
import {
  auditRows,
  AUTHENTICATE_SESSION,
  AUTHENTICATE_TOKEN,
  countRows,
  CREATE_MEMBER,
  CREATE_PROJECT,
  CREATE_TOKEN,
  CREATE_USER,
  createToken,
  GET_POLICY,
  openOtherProjectSession,
  openSession,
  REVOKE_SESSION,
  SESSIONS,
  SET_POLICY,
  setPolicy,
  unique,
  UPDATE_MEMBER,
  USERS,
} from "./harness/core-operations.js";
import { startTestApp } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

const { t, world } = useTestWorld();

/**
 * Sends an operation and asserts it failed with exactly `code`, on HTTP 200 or 400 (never 5xx), and
 * that the error body leaks no stack trace, no SQL and none of `secrets` (the tokens sent).
 */
async function expectError(
  credential: Credential,
  query: DocumentNode,
  variables: Record<string, unknown>,
  code: string,
  secrets: string[] = [],
): Promise<GraphQLResponse<any>> {
  const result = await gql(t.url, credential, query, variables);
  expect(result.errors, `expected ${code}, got data ${JSON.stringify(result.data)}`).toBeDefined();
  expect(result.errors![0]!.extensions?.code, JSON.stringify(result.errors)).toBe(code);
  expect(result.status).toBeLessThan(500);
  expectNoLeak(JSON.stringify(result.errors), secrets);
  return result;
}

function expectNoLeak(body: string, secrets: string[]): void {
  expect(body).not.toMatch(/stacktrace/i);
  expect(body).not.toMatch(/\bat \S+ \(?[^)]*:\d+:\d+\)?/); // a stack frame
  expect(body).not.toMatch(/\.(ts|js):\d+/);
  expect(body).not.toMatch(/\b(select|insert into|update|delete from)\b[\s\S]*\b(from|values|set|where)\b/i);
  expect(body).not.toMatch(/sqlite|postgres|SQLITE_|knex|mikro/i);
  for (const secret of secrets) expect(body).not.toContain(secret);
}

const createTokenVars = (overrides: Record<string, unknown> = {}) => ({
  input: { projectId: world.projectId, userId: world.userId, reason: "Investigating a ticket", ...overrides },
});

describe("BAD_USER_INPUT", () => {
  it.each([
    ["an empty reason", ""],
    ["a whitespace-only reason", "  \t\n "],
    ["a reason of 501 characters", "r".repeat(501)],
    ["a reason of 501 characters after trimming", ` ${"r".repeat(501)} `],
  ])("refuses createImpersonationToken with %s", async (_label, reason) => {
    await expectError(world.supportManager.credential, CREATE_TOKEN, createTokenVars({ reason }), "BAD_USER_INPUT");
  });

  it("accepts a reason of exactly 500 characters (after trimming)", async () => {
    const result = await gql(t.url, world.supportManager.credential, CREATE_TOKEN, createTokenVars({ reason: `  ${"r".repeat(500)}  ` }));
    expect(result.errors).toBeUndefined();
  });

  it.each([29, 3601, 0, -300])("refuses tokenTtlSeconds %i", async (tokenTtlSeconds) => {
    await expectError(world.admin.credential, SET_POLICY, { projectId: world.projectId, input: { tokenTtlSeconds } }, "BAD_USER_INPUT");
    const policy = await gql(t.url, world.admin.credential, GET_POLICY, { projectId: world.projectId });
    expect(policy.data!.impersonationPolicy.tokenTtlSeconds).toBe(300);
  });

  it("refuses a tokenTtlSeconds that is not an Int (variable coercion) with BAD_USER_INPUT, not a 500", async () => {
    await expectError(world.admin.credential, SET_POLICY, { projectId: world.projectId, input: { tokenTtlSeconds: "abc" } }, "BAD_USER_INPUT");
    await expectError(world.admin.credential, SET_POLICY, { projectId: world.projectId, input: { tokenTtlSeconds: 1e12 } }, "BAD_USER_INPUT");
  });

  it.each([30, 3600])("accepts tokenTtlSeconds %i at the bounds", async (tokenTtlSeconds) => {
    const result = await gql(t.url, world.admin.credential, SET_POLICY, { projectId: world.projectId, input: { tokenTtlSeconds } });
    expect(result.errors).toBeUndefined();
    expect(result.data!.setImpersonationPolicy.tokenTtlSeconds).toBe(tokenTtlSeconds);
    await setPolicy(t, world, { tokenTtlSeconds: 300 });
  });

  it.each(["not a url", "/relative/path", "ftp://files.example.com/auth", "javascript:alert(1)", "https://user:pass@app.example.com/auth", ""])(
    "refuses createProject with loginRedirectUrl %j",
    async (loginRedirectUrl) => {
      await expectError(world.admin.credential, CREATE_PROJECT, { input: { name: unique("project"), loginRedirectUrl } }, "BAD_USER_INPUT");
    },
  );

  it.each(["not-an-email", "missing-domain@", "@example.com", "two words@example.com", ""])("refuses email %j for users and members", async (email) => {
    await expectError(world.admin.credential, CREATE_USER, { input: { projectId: world.projectId, email } }, "BAD_USER_INPUT");
    await expectError(world.admin.credential, CREATE_MEMBER, { input: { email, role: "VIEWER" } }, "BAD_USER_INPUT");
  });

  it("refuses authenticateSession with both or neither of sessionToken and sessionJwt", async () => {
    const { sessionToken, sessionJwt } = await openSession(t, world);
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionToken, sessionJwt }, "BAD_USER_INPUT", [sessionToken, sessionJwt]);
    await expectError(world.backend, AUTHENTICATE_SESSION, {}, "BAD_USER_INPUT");
  });

  it("refuses revokeSession with more than one or none of sessionId, sessionToken and sessionJwt", async () => {
    const { sessionToken, sessionJwt, session } = await openSession(t, world);
    await expectError(world.backend, REVOKE_SESSION, { sessionId: session.id, sessionToken }, "BAD_USER_INPUT", [sessionToken]);
    await expectError(world.backend, REVOKE_SESSION, { sessionToken, sessionJwt }, "BAD_USER_INPUT", [sessionToken, sessionJwt]);
    await expectError(world.backend, REVOKE_SESSION, {}, "BAD_USER_INPUT");
    // Nothing was revoked by the refused calls.
    expect((await gql(t.url, world.backend, AUTHENTICATE_SESSION, { sessionToken })).errors).toBeUndefined();
  });

  it.each(["not-a-cursor", "eyJub3QiOiJhbiBhcnJheSJ9", Buffer.from(JSON.stringify(["a", 1])).toString("base64url"), ""])(
    "refuses an invalid `after` cursor %j",
    async (after) => {
      await expectError(world.admin.credential, SESSIONS, { projectId: world.projectId, after }, "BAD_USER_INPUT");
      await expectError(world.admin.credential, USERS, { projectId: world.projectId, after }, "BAD_USER_INPUT");
    },
  );

  it.each([0, -1, 100_000])("refuses first: %i", async (first) => {
    await expectError(world.admin.credential, SESSIONS, { projectId: world.projectId, first }, "BAD_USER_INPUT");
  });

  it("refuses sessionDurationMinutes on authenticateSession: impersonated sessions cannot be extended", async () => {
    const { sessionToken, session } = await openSession(t, world);
    const result = await expectError(world.backend, AUTHENTICATE_SESSION, { sessionToken, sessionDurationMinutes: 120 }, "BAD_USER_INPUT", [sessionToken]);
    expect(result.errors![0]!.message).toMatch(/cannot be extended/i);
    const after = await gql(t.url, world.backend, AUTHENTICATE_SESSION, { sessionToken });
    expect(after.data!.authenticateSession.session.expiresAt).toBe(session.expiresAt);
  });
});

describe("input the databases cannot take", () => {
  const cursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString("base64url");

  it.each([
    ["a huge number", [1e308, "a"]],
    ["a number past any date", [8640000000000001, "a"]],
    ["an unsafe integer", [99999999999999999, "a"]],
    ["a negative number", [-1, "a"]],
    ["a fraction", [1.5, "a"]],
    ["an id with a NUL", [1, "a\u0000b"]],
  ])("refuses a forged cursor holding %s with BAD_USER_INPUT", async (_label, parts) => {
    await expectError(world.admin.credential, USERS, { projectId: world.projectId, first: 2, after: cursor(parts) }, "BAD_USER_INPUT");
    await expectError(world.admin.credential, SESSIONS, { projectId: world.projectId, first: 2, after: cursor(parts) }, "BAD_USER_INPUT");
  });

  it("refuses a NUL character in any variable with BAD_USER_INPUT", async () => {
    await expectError(world.admin.credential, GET_POLICY, { projectId: "a\u0000b" }, "BAD_USER_INPUT");
    await expectError(world.admin.credential, UPDATE_MEMBER, { id: "\u0000", input: {} }, "BAD_USER_INPUT");
    await expectError(world.admin.credential, CREATE_USER, { input: { projectId: world.projectId, email: "nul@example.com", name: "a\u0000b" } }, "BAD_USER_INPUT");
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionToken: "\u0000" }, "BAD_USER_INPUT");
  });

  it("refuses a NUL character written into the operation itself, as a validation error (HTTP 400)", async () => {
    const result = await gql(t.url, world.admin.credential, `query { impersonationPolicy(projectId: "a\\u0000b") { projectId } }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("refuses a lone UTF-16 surrogate (no database could store it as sent) with BAD_USER_INPUT", async () => {
    await expectError(world.supportManager.credential, CREATE_TOKEN, createTokenVars({ reason: "ticket \ud800 42" }), "BAD_USER_INPUT");
    await expectError(world.admin.credential, CREATE_USER, { input: { projectId: world.projectId, email: "d\udc00@example.com" } }, "BAD_USER_INPUT");
    const verified = await gql(t.url, world.admin.credential, VerifyAuditLogDocument, { projectId: world.projectId });
    expect(verified.data).toEqual({ verifyAuditLog: { valid: true, checkedCount: expect.any(Number), firstInvalidEventId: null } });
  });

  it.each(["0000-01-01T00:00:00Z", "0000-12-31T23:59:59.999Z", "0000-06-01T00:00:00+01:00"])(
    "refuses an audit filter instant outside the years 1–9999 (%s) with BAD_USER_INPUT",
    async (instant) => {
      await expectError(world.admin.credential, AuditEventsDocument, { projectId: world.projectId, filter: { since: instant } }, "BAD_USER_INPUT");
      await expectError(world.backend, AuditEventsDocument, { projectId: world.projectId, filter: { until: instant } }, "BAD_USER_INPUT");
    },
  );

  it("answers concurrent creations of one email with one success and BAD_USER_INPUT, never a 500", async () => {
    // A second server on the same database, as behind a load balancer: the two race for real.
    const second = await startTestApp({ databaseUrl: t.databaseUrl });
    const urls = [t.url, second.url];
    const email = `${unique("race")}@example.com`;
    const users = await Promise.all(
      Array.from({ length: 30 }, (_, i) => gql(urls[i % 2]!, world.backend, CREATE_USER, { input: { projectId: world.projectId, email } })),
    ).finally(() => second.close());
    expect(users.filter((r) => !r.errors)).toHaveLength(1);
    for (const r of users.filter((r) => r.errors)) expect(r.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");

    const memberEmail = `${unique("race")}@example.com`;
    const members = await Promise.all(
      Array.from({ length: 30 }, () => gql(t.url, world.admin.credential, CREATE_MEMBER, { input: { email: memberEmail, role: "VIEWER" } })),
    );
    expect(members.filter((r) => !r.errors)).toHaveLength(1);
    for (const r of members.filter((r) => r.errors)) expect(r.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("counts a reason in characters, not UTF-16 units: 500 emoji are accepted, 501 refused", async () => {
    const accepted = await gql(t.url, world.supportManager.credential, CREATE_TOKEN, createTokenVars({ reason: "🔍".repeat(500) }));
    expect(accepted.errors).toBeUndefined();
    await expectError(world.supportManager.credential, CREATE_TOKEN, createTokenVars({ reason: "🔍".repeat(501) }), "BAD_USER_INPUT");
  });

  it("never echoes a token or credential back in an error message, even the caller's own", async () => {
    const { sessionToken, sessionJwt } = await openSession(t, world);
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionToken: [sessionToken] }, "BAD_USER_INPUT", [sessionToken]);
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionJwt: { jwt: sessionJwt } }, "BAD_USER_INPUT", [sessionJwt]);
  });
});

describe("a refused audited call records what the server knew", () => {
  it("a member's exchange (FORBIDDEN) names the token's user, impersonator and reason", async () => {
    const { token } = await createToken(t, world, { member: world.developer });
    const refused = await gql(t.url, world.admin.credential, AUTHENTICATE_TOKEN, { token });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const events = await auditRows(t, "action = ? and error_code = ? and actor_type = ?", ["AuthenticateImpersonationToken", "FORBIDDEN", "member"]);
    expect(events.at(-1)).toMatchObject({ user_id: world.userId, impersonator_id: world.developer.id, reason: expect.any(String) });
  });

  it("a VIEWER's revocation (FORBIDDEN) names the session's user and impersonator", async () => {
    const { session } = await openSession(t, world, { member: world.supportManager });
    const refused = await gql(t.url, world.viewer.credential, REVOKE_SESSION, { sessionId: session.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const [event] = await auditRows(t, "action = ? and error_code = ? and session_id = ?", ["RevokeSession", "FORBIDDEN", session.id]);
    expect(event).toMatchObject({ user_id: world.userId, impersonator_id: world.supportManager.id });
  });
});

describe("NOT_FOUND", () => {
  it("for a token for an unknown user", async () => {
    await expectError(world.supportManager.credential, CREATE_TOKEN, createTokenVars({ userId: "user_doesnotexist" }), "NOT_FOUND");
  });

  it("for a token for a user of another project", async () => {
    await expectError(world.supportManager.credential, CREATE_TOKEN, createTokenVars({ userId: world.other.userId }), "NOT_FOUND");
  });

  it("for a member naming an unknown project", async () => {
    const projectId = "project_doesnotexist";
    await expectError(world.admin.credential, CREATE_USER, { input: { projectId, email: `${unique("u")}@customer.com` } }, "NOT_FOUND");
    await expectError(world.supportManager.credential, CREATE_TOKEN, createTokenVars({ projectId }), "NOT_FOUND");
    await expectError(world.viewer.credential, SESSIONS, { projectId }, "NOT_FOUND");
    await expectError(world.admin.credential, SET_POLICY, { projectId, input: { allowImpersonation: true } }, "NOT_FOUND");
    await expectError(world.viewer.credential, GET_POLICY, { projectId }, "NOT_FOUND");
  });

  it("for updating an unknown team member", async () => {
    await expectError(world.admin.credential, UPDATE_MEMBER, { id: "member_doesnotexist", input: { role: "VIEWER" } }, "NOT_FOUND");
  });
});

describe("IMPERSONATION_DISABLED", () => {
  it("refuses to create a token while the project's policy is off (the default)", async () => {
    const created = await gql(t.url, world.admin.credential, CREATE_PROJECT, { input: { name: unique("off"), loginRedirectUrl: "https://off.example.com/auth" } });
    const projectId = created.data!.createProject.project.id;
    expect(created.data!.createProject.project.impersonationPolicy.allowImpersonation).toBe(false);
    const user = await gql(t.url, world.admin.credential, CREATE_USER, { input: { projectId, email: "off@customer.com" } });
    await expectError(world.admin.credential, CREATE_TOKEN, { input: { projectId, userId: user.data!.createUser.id, reason: "ticket" } }, "IMPERSONATION_DISABLED");
  });

  it("refuses to exchange a token after the policy was turned off, and voids it for good", async () => {
    const { token } = await createToken(t, world);
    await setPolicy(t, world, { allowImpersonation: false });
    try {
      await expectError(world.backend, AUTHENTICATE_TOKEN, { token }, "IMPERSONATION_DISABLED", [token]);
    } finally {
      await setPolicy(t, world, { allowImpersonation: true });
    }
    // A voided token stays dead after the policy is turned back on.
    await expectError(world.backend, AUTHENTICATE_TOKEN, { token }, "IMPERSONATION_TOKEN_NOT_FOUND", [token]);
  });
});

describe("FRONTEND_AUTHENTICATION_DISABLED", () => {
  it("refuses the frontend's exchange while allowFrontendAuthentication is off, leaving the token usable", async () => {
    const { token } = await createToken(t, world);
    await expectError(world.frontend, AUTHENTICATE_TOKEN, { token }, "FRONTEND_AUTHENTICATION_DISABLED", [token]);
    expect((await gql(t.url, world.backend, AUTHENTICATE_TOKEN, { token })).errors).toBeUndefined();
  });
});

describe("impersonation token errors", () => {
  it("IMPERSONATION_TOKEN_NOT_FOUND for a garbage token", async () => {
    for (const token of ["garbage", "", "x".repeat(10_000)]) {
      await expectError(world.backend, AUTHENTICATE_TOKEN, { token }, "IMPERSONATION_TOKEN_NOT_FOUND", token ? [token] : []);
    }
  });

  it("IMPERSONATION_TOKEN_NOT_FOUND for another project's token, which stays usable by its own project", async () => {
    const { token } = await createToken(t, world, { member: world.admin, projectId: world.other.projectId, userId: world.other.userId });
    await expectError(world.backend, AUTHENTICATE_TOKEN, { token }, "IMPERSONATION_TOKEN_NOT_FOUND", [token]);
    expect((await gql(t.url, world.other.backend, AUTHENTICATE_TOKEN, { token })).errors).toBeUndefined();
  });

  it("IMPERSONATION_TOKEN_EXPIRED once the TTL has passed", async () => {
    const { token } = await createToken(t, world);
    t.clock.advanceSeconds(301);
    await expectError(world.backend, AUTHENTICATE_TOKEN, { token }, "IMPERSONATION_TOKEN_EXPIRED", [token]);
  });

  it("IMPERSONATION_TOKEN_ALREADY_USED on the second exchange", async () => {
    const { token } = await createToken(t, world);
    expect((await gql(t.url, world.backend, AUTHENTICATE_TOKEN, { token })).errors).toBeUndefined();
    await expectError(world.backend, AUTHENTICATE_TOKEN, { token }, "IMPERSONATION_TOKEN_ALREADY_USED", [token]);
  });
});

describe("session errors", () => {
  it("SESSION_NOT_FOUND for a garbage session token or JWT", async () => {
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionToken: "garbage" }, "SESSION_NOT_FOUND", ["garbage"]);
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionJwt: "not.a.jwt" }, "SESSION_NOT_FOUND", ["not.a.jwt"]);
    await expectError(world.backend, REVOKE_SESSION, { sessionId: "session_doesnotexist" }, "SESSION_NOT_FOUND");
    await expectError(world.admin.credential, REVOKE_SESSION, { sessionId: "session_doesnotexist" }, "SESSION_NOT_FOUND");
  });

  it("SESSION_NOT_FOUND for another project's session", async () => {
    const other = await openOtherProjectSession(t, world);
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionToken: other.sessionToken }, "SESSION_NOT_FOUND", [other.sessionToken]);
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionJwt: other.sessionJwt }, "SESSION_NOT_FOUND", [other.sessionJwt]);
    await expectError(world.backend, REVOKE_SESSION, { sessionId: other.session.id }, "SESSION_NOT_FOUND");
    expect((await gql(t.url, world.other.backend, AUTHENTICATE_SESSION, { sessionToken: other.sessionToken })).errors).toBeUndefined();
  });

  it("SESSION_NOT_FOUND for a tampered JWT", async () => {
    const { sessionJwt } = await openSession(t, world);
    const [header, payload, signature] = sessionJwt.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString("base64url")}.${signature}`;
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionJwt: forged }, "SESSION_NOT_FOUND", [forged]);
  });

  it("SESSION_EXPIRED after the session's hour", async () => {
    const { sessionToken } = await openSession(t, world);
    t.clock.advance(60 * 60_000);
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionToken }, "SESSION_EXPIRED", [sessionToken]);
  });

  it("SESSION_REVOKED after revokeSession", async () => {
    const { sessionToken, session } = await openSession(t, world);
    expect((await gql(t.url, world.backend, REVOKE_SESSION, { sessionId: session.id })).errors).toBeUndefined();
    await expectError(world.backend, AUTHENTICATE_SESSION, { sessionToken }, "SESSION_REVOKED", [sessionToken]);
  });
});

describe("the HTTP layer", () => {
  it("answers a malformed JSON body with 400, not 500", async () => {
    const response = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query": "{ me { id } ' });
    expect(response.status).toBe(400);
    const body = await response.text();
    expectNoLeak(body, []);
  });

  it("answers a body over 1 MB with 413 and a clear message", async () => {
    const query = `mutation($token: String!) { authenticateImpersonationToken(token: $token) { userId } }`;
    const body = JSON.stringify({ query, variables: { token: "x".repeat(1_100_000) } });
    const response = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json", ...credentialHeaders(world.backend) }, body });
    expect(response.status).toBe(413);
    expect(await response.text()).toMatch(/exceeds|too large/i);
  });

  it("does not suggest field names for typos (no 'Did you mean')", async () => {
    const typoField = await gql(t.url, world.admin.credential, `query { sesions(projectId: "${world.projectId}") { edges { cursor } } }`);
    const typoArg = await gql(t.url, world.admin.credential, `mutation { createUser(input: { projectId: "${world.projectId}", emial: "a@b.co" }) { id } }`);
    const typoSubfield = await gql(t.url, world.admin.credential, `query { users(projectId: "${world.projectId}") { edges { nodes { id } } } }`);
    for (const result of [typoField, typoArg, typoSubfield]) {
      expect(result.errors?.length).toBeGreaterThan(0);
      expect(new Set(result.errors!.map((error) => error.extensions?.code))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
      expect(result.status).toBeLessThan(500);
      expect(JSON.stringify(result.errors)).not.toMatch(/did you mean/i);
    }
  });

  it("never answers bad input with INTERNAL_SERVER_ERROR", async () => {
    const inputs: Array<[Credential, DocumentNode, Record<string, unknown>]> = [
      [world.backend, AUTHENTICATE_TOKEN, { token: null }],
      [world.backend, AUTHENTICATE_SESSION, { sessionToken: "\u0000\uffff" }],
      [world.admin.credential, CREATE_TOKEN, { input: { projectId: "p".repeat(5000), userId: "u".repeat(5000), reason: "r" } }],
      [world.admin.credential, SESSIONS, { projectId: world.projectId, userId: "'; drop table sessions; --" }],
    ];
    for (const [credential, query, variables] of inputs) {
      const result = await gql(t.url, credential, query, variables);
      expect(result.status).toBeLessThan(500);
      expect(result.errors?.[0]?.extensions?.code ?? "none").not.toBe("INTERNAL_SERVER_ERROR");
    }
    expect(await countRows(t, "sessions")).toBeGreaterThan(0);
  });
});

describe("a failed mutation leaves no half-written rows", () => {
  it("a refused token creation writes no token", async () => {
    const before = await countRows(t, "impersonation_tokens");
    await expectError(world.supportManager.credential, CREATE_TOKEN, createTokenVars({ reason: " " }), "BAD_USER_INPUT");
    await expectError(world.supportManager.credential, CREATE_TOKEN, createTokenVars({ userId: "user_doesnotexist" }), "NOT_FOUND");
    await expectError(world.viewer.credential, CREATE_TOKEN, createTokenVars(), "FORBIDDEN");
    expect(await countRows(t, "impersonation_tokens")).toBe(before);
  });

  it("a refused exchange writes no session and leaves the token unused", async () => {
    const { token } = await createToken(t, world);
    const sessionsBefore = await countRows(t, "sessions");
    const usedBefore = await countRows(t, "impersonation_tokens", "used_at is not null");
    await expectError(world.frontend, AUTHENTICATE_TOKEN, { token }, "FRONTEND_AUTHENTICATION_DISABLED", [token]);
    await expectError(world.other.backend, AUTHENTICATE_TOKEN, { token }, "IMPERSONATION_TOKEN_NOT_FOUND", [token]);
    expect(await countRows(t, "sessions")).toBe(sessionsBefore);
    expect(await countRows(t, "impersonation_tokens", "used_at is not null")).toBe(usedBefore);

    expect((await gql(t.url, world.backend, AUTHENTICATE_TOKEN, { token })).errors).toBeUndefined();
    const sessionsAfterWin = await countRows(t, "sessions");
    expect(sessionsAfterWin).toBe(sessionsBefore + 1);
    await expectError(world.backend, AUTHENTICATE_TOKEN, { token }, "IMPERSONATION_TOKEN_ALREADY_USED", [token]);
    expect(await countRows(t, "sessions")).toBe(sessionsAfterWin);
  });

  it("a refused policy change changes nothing", async () => {
    const before = (await gql(t.url, world.admin.credential, GET_POLICY, { projectId: world.projectId })).data!.impersonationPolicy;
    await expectError(world.admin.credential, SET_POLICY, { projectId: world.projectId, input: { allowImpersonation: false, tokenTtlSeconds: 9999 } }, "BAD_USER_INPUT");
    const after = (await gql(t.url, world.admin.credential, GET_POLICY, { projectId: world.projectId })).data!.impersonationPolicy;
    expect(after).toEqual(before);
    expect(after.allowImpersonation).toBe(true);
  });

  it("a duplicate user or member writes nothing", async () => {
    const users = await countRows(t, "users");
    const members = await countRows(t, "team_members");
    const keys = await countRows(t, "member_api_keys");
    await expectError(world.admin.credential, CREATE_USER, { input: { projectId: world.projectId, email: "jane@customer.com" } }, "BAD_USER_INPUT");
    await expectError(world.admin.credential, CREATE_MEMBER, { input: { email: world.developer.email, role: "ADMIN" } }, "BAD_USER_INPUT");
    expect(await countRows(t, "users")).toBe(users);
    expect(await countRows(t, "team_members")).toBe(members);
    expect(await countRows(t, "member_api_keys")).toBe(keys);
  });
});
