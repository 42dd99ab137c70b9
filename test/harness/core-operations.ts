import { expect } from "vitest";
import { gql, gqlOk, type Credential, type GraphQLResponse } from "./client.js";
import type { Member, World } from "./fixtures.js";
import type { TestApp } from "./test-app.js";

/** GraphQL documents of the core operations (SPEC §4.7), shared by the core test files. */

export const SET_POLICY = `mutation SetPolicy($projectId: ID!, $input: ImpersonationPolicyInput!) {
  setImpersonationPolicy(projectId: $projectId, input: $input) {
    projectId allowImpersonation allowFrontendAuthentication tokenTtlSeconds sessionDurationMinutes
  }
}`;

export const GET_POLICY = `query Policy($projectId: ID!) {
  impersonationPolicy(projectId: $projectId) {
    projectId allowImpersonation allowFrontendAuthentication tokenTtlSeconds sessionDurationMinutes
  }
}`;

export const CREATE_TOKEN = `mutation CreateToken($input: CreateImpersonationTokenInput!) {
  createImpersonationToken(input: $input) { token expiresAt launchUrl }
}`;

const SESSION_FIELDS = `id userId startedAt lastAccessedAt expiresAt revokedAt
  authenticationFactors { type deliveryMethod createdAt lastAuthenticatedAt impersonatedFactor { impersonatorId impersonatorEmailAddress } }`;

export const AUTHENTICATE_TOKEN = `mutation AuthenticateToken($token: String!) {
  authenticateImpersonationToken(token: $token) {
    requestId userId sessionToken sessionJwt user { id email } session { ${SESSION_FIELDS} }
  }
}`;

export const AUTHENTICATE_SESSION = `mutation AuthenticateSession($sessionToken: String, $sessionJwt: String, $sessionDurationMinutes: Int) {
  authenticateSession(sessionToken: $sessionToken, sessionJwt: $sessionJwt, sessionDurationMinutes: $sessionDurationMinutes) {
    sessionJwt user { id email } session { ${SESSION_FIELDS} }
  }
}`;

export const REVOKE_SESSION = `mutation RevokeSession($sessionId: ID, $sessionToken: String, $sessionJwt: String) {
  revokeSession(sessionId: $sessionId, sessionToken: $sessionToken, sessionJwt: $sessionJwt) { requestId session { id revokedAt } }
}`;

export const SESSIONS = `query Sessions($projectId: ID!, $userId: ID, $impersonatorId: ID, $activeOnly: Boolean, $first: Int, $after: String) {
  sessions(projectId: $projectId, userId: $userId, impersonatorId: $impersonatorId, activeOnly: $activeOnly, first: $first, after: $after) {
    edges { cursor node { id userId startedAt expiresAt revokedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const CREATE_MEMBER = `mutation CreateMember($input: CreateTeamMemberInput!) {
  createTeamMember(input: $input) { member { id email name role disabled } apiKey }
}`;

export const UPDATE_MEMBER = `mutation UpdateMember($id: ID!, $input: UpdateTeamMemberInput!) {
  updateTeamMember(id: $id, input: $input) { id email role disabled }
}`;

export const CREATE_PROJECT = `mutation CreateProject($input: CreateProjectInput!) {
  createProject(input: $input) { project { id name loginRedirectUrl impersonationPolicy { allowImpersonation } } secret publicToken }
}`;

export const CREATE_USER = `mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id projectId email name } }`;

export const USERS = `query Users($projectId: ID!, $search: String, $first: Int, $after: String) {
  users(projectId: $projectId, search: $search, first: $first, after: $after) {
    edges { cursor node { id email name } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const USER = `query User($projectId: ID!, $id: ID!) { user(projectId: $projectId, id: $id) { id projectId email name } }`;

export interface SessionView {
  id: string;
  userId: string;
  startedAt: string;
  lastAccessedAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

export interface StartedSession {
  sessionToken: string;
  sessionJwt: string;
  session: SessionView;
}

let uniqueCounter = 0;
/** A string unique within this test process, for emails and names. */
export function unique(prefix = "x"): string {
  return `${prefix}-${Date.now().toString(36)}-${++uniqueCounter}`;
}

/** Creates a team member of `role` as the world's ADMIN. */
export async function newMember(t: TestApp, world: World, role: string): Promise<Member> {
  const email = `${unique(role.toLowerCase())}@example.com`;
  const data = await gqlOk(t.url, world.admin.credential, CREATE_MEMBER, { input: { email, role } });
  const { member, apiKey } = data.createTeamMember;
  return { id: member.id, email: member.email, apiKey, credential: { kind: "member", apiKey } };
}

/** Creates a user of `projectId` (the world's project by default) as the world's ADMIN. */
export async function newUser(t: TestApp, world: World, options: { projectId?: string; email?: string; name?: string } = {}): Promise<string> {
  const input = { projectId: options.projectId ?? world.projectId, email: options.email ?? `${unique("user")}@customer.com`, name: options.name };
  return (await gqlOk(t.url, world.admin.credential, CREATE_USER, { input })).createUser.id;
}

/** Creates an impersonation token; defaults: the world's project and user, as its SUPPORT_MANAGER. */
export async function createToken(
  t: TestApp,
  world: World,
  options: { member?: Member; projectId?: string; userId?: string; reason?: string } = {},
): Promise<{ token: string; expiresAt: string; launchUrl: string }> {
  const input = {
    projectId: options.projectId ?? world.projectId,
    userId: options.userId ?? world.userId,
    reason: options.reason ?? "Customer reports a blank dashboard",
  };
  return (await gqlOk(t.url, (options.member ?? world.supportManager).credential, CREATE_TOKEN, { input })).createImpersonationToken;
}

/** Creates a token and exchanges it as `exchanger` (the world's backend by default). */
export async function openSession(
  t: TestApp,
  world: World,
  options: { member?: Member; projectId?: string; userId?: string; exchanger?: Credential } = {},
): Promise<StartedSession> {
  const { token } = await createToken(t, world, options);
  const data = await gqlOk(t.url, options.exchanger ?? world.backend, AUTHENTICATE_TOKEN, { token });
  return data.authenticateImpersonationToken;
}

/** A session of the world's OTHER project, created by its ADMIN and exchanged by its backend. */
export function openOtherProjectSession(t: TestApp, world: World): Promise<StartedSession> {
  return openSession(t, world, { member: world.admin, projectId: world.other.projectId, userId: world.other.userId, exchanger: world.other.backend });
}

export function setPolicy(t: TestApp, world: World, input: Record<string, unknown>, projectId = world.projectId) {
  return gqlOk(t.url, world.admin.credential, SET_POLICY, { projectId, input });
}

export function authenticateSession(t: TestApp, credential: Credential, locator: { sessionToken?: string; sessionJwt?: string; sessionDurationMinutes?: number }) {
  return gql(t.url, credential, AUTHENTICATE_SESSION, locator);
}

/** The first error's code, or undefined when the operation succeeded. */
export function codeOf(result: GraphQLResponse<unknown>): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}

/** Asserts that an operation failed with exactly `code` and returned no data for it. */
export function expectCode(result: GraphQLResponse<unknown>, code: string): void {
  expect(result.errors, `expected ${code}, got data ${JSON.stringify(result.data)}`).toBeDefined();
  expect(codeOf(result)).toBe(code);
}

/** Asserts that an operation succeeded. */
export function expectOk<T>(result: GraphQLResponse<T>): T {
  expect(result.errors, `expected success, got ${JSON.stringify(result.errors)}`).toBeUndefined();
  expect(result.data).toBeTruthy();
  return result.data as T;
}

// ---- direct database reads (for what no query exposes yet, e.g. the audit log) ----

/** Runs a read-only SQL statement against the app's database (`?` placeholders). */
export async function sql<T = Record<string, unknown>>(t: TestApp, query: string, params: unknown[] = []): Promise<T[]> {
  return t.app.orm.em.fork().getConnection().execute<T[]>(query, params, "all");
}

/** `select count(*)` of a table with an optional where clause. */
export async function countRows(t: TestApp, table: string, where = "1 = 1", params: unknown[] = []): Promise<number> {
  const rows = await sql<{ n: number | string }>(t, `select count(*) as n from ${table} where ${where}`, params);
  return Number(rows[0]!.n);
}

export interface AuditRow {
  id: string;
  project_id: string;
  action: string;
  event_type: string | null;
  status: string;
  error_code: string | null;
  user_id: string | null;
  impersonator_id: string | null;
  reason: string | null;
  session_id: string | null;
  actor_type: string;
  details: string | null;
}

/** Audit events matching a where clause, in append order. */
export function auditRows(t: TestApp, where: string, params: unknown[] = []): Promise<AuditRow[]> {
  return sql<AuditRow>(t, `select * from audit_events where ${where} order by project_id, seq`, params);
}
