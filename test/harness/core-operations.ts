import { expect } from "vitest";
import {
  AuthenticateSessionDocument,
  AuthenticateTokenDocument,
  CreateImpersonationTokenDocument,
  CreateMemberDocument,
  CreateNamedUserDocument,
  SetPolicyDocument,
  type ImpersonationPolicyInput,
  type TeamRole,
} from "../__generated__/graphql.js";
import { gql, gqlOk, type Credential, type GraphQLResponse } from "./client.js";
import type { Member, World } from "./fixtures.js";
import type { TestApp } from "./test-app.js";

/** The core operations (SPEC §4.7), typed by codegen from test/operations/, shared by the core test files. */
export {
  AuthenticateSessionDocument as AUTHENTICATE_SESSION,
  AuthenticateTokenDocument as AUTHENTICATE_TOKEN,
  CreateImpersonationTokenDocument as CREATE_TOKEN,
  CreateMemberDocument as CREATE_MEMBER,
  CreateNamedUserDocument as CREATE_USER,
  CreateProjectWithPolicyDocument as CREATE_PROJECT,
  PolicyDocument as GET_POLICY,
  RevokeSessionDocument as REVOKE_SESSION,
  SessionsDocument as SESSIONS,
  SetPolicyDocument as SET_POLICY,
  UpdateMemberDocument as UPDATE_MEMBER,
  UserDocument as USER,
  UsersDocument as USERS,
} from "../__generated__/graphql.js";

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
export async function newMember(t: TestApp, world: World, role: TeamRole): Promise<Member> {
  const email = `${unique(role.toLowerCase())}@example.com`;
  const data = await gqlOk(t.url, world.admin.credential, CreateMemberDocument, { input: { email, role } });
  const { member, apiKey } = data.createTeamMember;
  return { id: member.id, email: member.email, apiKey, credential: { kind: "member", apiKey } };
}

/** Creates a user of `projectId` (the world's project by default) as the world's ADMIN. */
export async function newUser(t: TestApp, world: World, options: { projectId?: string; email?: string; name?: string } = {}): Promise<string> {
  const input = { projectId: options.projectId ?? world.projectId, email: options.email ?? `${unique("user")}@customer.com`, name: options.name };
  return (await gqlOk(t.url, world.admin.credential, CreateNamedUserDocument, { input })).createUser.id;
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
  return (await gqlOk(t.url, (options.member ?? world.supportManager).credential, CreateImpersonationTokenDocument, { input })).createImpersonationToken;
}

/** Creates a token and exchanges it as `exchanger` (the world's backend by default). */
export async function openSession(
  t: TestApp,
  world: World,
  options: { member?: Member; projectId?: string; userId?: string; exchanger?: Credential } = {},
): Promise<StartedSession> {
  const { token } = await createToken(t, world, options);
  const data = await gqlOk(t.url, options.exchanger ?? world.backend, AuthenticateTokenDocument, { token });
  return data.authenticateImpersonationToken;
}

/** A session of the world's OTHER project, created by its ADMIN and exchanged by its backend. */
export function openOtherProjectSession(t: TestApp, world: World): Promise<StartedSession> {
  return openSession(t, world, { member: world.admin, projectId: world.other.projectId, userId: world.other.userId, exchanger: world.other.backend });
}

export function setPolicy(t: TestApp, world: World, input: ImpersonationPolicyInput, projectId = world.projectId) {
  return gqlOk(t.url, world.admin.credential, SetPolicyDocument, { projectId, input });
}

export function authenticateSession(t: TestApp, credential: Credential, locator: { sessionToken?: string; sessionJwt?: string; sessionDurationMinutes?: number }) {
  return gql(t.url, credential, AuthenticateSessionDocument, locator);
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
  request_id: string;
  mode: string | null;
  impersonation_request_id: string | null;
  actor_type: string;
  actor_id: string | null;
  details: string | null;
}

/** Audit events matching a where clause, in append order. */
export function auditRows(t: TestApp, where: string, params: unknown[] = []): Promise<AuditRow[]> {
  return sql<AuditRow>(t, `select * from audit_events where ${where} order by project_id, seq`, params);
}
