import { databaseOf } from "../../src/db/database-of.js";
import { bootstrap } from "../../src/modules/bootstrap/bootstrap.service.js";
import { asBackend, asFrontend, asMember, gqlOk, type Credential } from "./client.js";
import type { TestApp } from "./test-app.js";

export interface Member {
  id: string;
  email: string;
  apiKey: string;
  credential: Credential;
}

export interface World {
  projectId: string;
  projectSecret: string;
  publicToken: string;
  admin: Member;
  developer: Member;
  supportManager: Member;
  viewer: Member;
  backend: Credential;
  frontend: Credential;
  /** A user of the project. */
  userId: string;
  /** Another project, with its own credentials and user. */
  other: { projectId: string; backend: Credential; frontend: Credential; userId: string };
}

const createMember = `mutation CreateMember($input: CreateTeamMemberInput!) {
  createTeamMember(input: $input) { member { id email } apiKey }
}`;
const createUser = `mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id } }`;
const createProject = `mutation CreateProject($input: CreateProjectInput!) {
  createProject(input: $input) { project { id } secret publicToken }
}`;
const setPolicy = `mutation SetPolicy($projectId: ID!, $input: ImpersonationPolicyInput!) {
  setImpersonationPolicy(projectId: $projectId, input: $input) { allowImpersonation }
}`;

let counter = 0;

/**
 * A bootstrapped install (the same code path as `npm run bootstrap`) with one member of each role,
 * a user, and a second project; impersonation is enabled on the first project unless told not to.
 */
export async function createWorld(t: TestApp, options: { allowImpersonation?: boolean; allowFrontendAuthentication?: boolean } = {}): Promise<World> {
  const boot = await bootstrap({ ...t.app.services, db: databaseOf(t.app.orm.em) }, {
    adminEmail: "admin@example.com",
    projectName: "Demo",
    loginRedirectUrl: "https://app.example.com/authenticate",
  });
  const admin: Member = { id: boot.adminMemberId, email: "admin@example.com", apiKey: boot.adminApiKey, credential: asMember(boot.adminApiKey) };
  const member = async (role: string): Promise<Member> => {
    const email = `${role.toLowerCase()}-${++counter}@example.com`;
    const data = await gqlOk(t.url, admin.credential, createMember, { input: { email, role, name: role } });
    const { member, apiKey } = data.createTeamMember;
    return { id: member.id, email: member.email, apiKey, credential: asMember(apiKey) };
  };
  const developer = await member("DEVELOPER");
  const supportManager = await member("SUPPORT_MANAGER");
  const viewer = await member("VIEWER");
  const backend = asBackend(boot.projectId, boot.projectSecret);
  const user = await gqlOk(t.url, admin.credential, createUser, { input: { projectId: boot.projectId, email: "jane@customer.com", name: "Jane" } });

  const otherProject = (await gqlOk(t.url, admin.credential, createProject, { input: { name: "Other", loginRedirectUrl: "https://other.example.com/auth" } })).createProject;
  const otherUser = await gqlOk(t.url, admin.credential, createUser, { input: { projectId: otherProject.project.id, email: "bob@other.com" } });
  await gqlOk(t.url, admin.credential, setPolicy, { projectId: otherProject.project.id, input: { allowImpersonation: true, allowFrontendAuthentication: true } });

  if (options.allowImpersonation !== false) {
    await gqlOk(t.url, admin.credential, setPolicy, {
      projectId: boot.projectId,
      input: { allowImpersonation: true, allowFrontendAuthentication: options.allowFrontendAuthentication ?? false },
    });
  }
  return {
    projectId: boot.projectId,
    projectSecret: boot.projectSecret,
    publicToken: boot.publicToken,
    admin,
    developer,
    supportManager,
    viewer,
    backend,
    frontend: asFrontend(boot.publicToken),
    userId: user.createUser.id,
    other: {
      projectId: otherProject.project.id,
      backend: asBackend(otherProject.project.id, otherProject.secret),
      frontend: asFrontend(otherProject.publicToken),
      userId: otherUser.createUser.id,
    },
  };
}

const createToken = `mutation CreateToken($input: CreateImpersonationTokenInput!) {
  createImpersonationToken(input: $input) { token expiresAt launchUrl }
}`;
const authenticateToken = `mutation AuthenticateToken($token: String!) {
  authenticateImpersonationToken(token: $token) {
    requestId userId sessionToken sessionJwt
    user { id email }
    session { id userId startedAt lastAccessedAt expiresAt revokedAt
      authenticationFactors { type deliveryMethod createdAt lastAuthenticatedAt impersonatedFactor { impersonatorId impersonatorEmailAddress } } }
  }
}`;

/** Creates a token as `member` for the world's user. */
export async function issueToken(t: TestApp, world: World, member: Member = world.supportManager, reason = "Customer reports a blank dashboard") {
  const data = await gqlOk(t.url, member.credential, createToken, { input: { projectId: world.projectId, userId: world.userId, reason } });
  return data.createImpersonationToken as { token: string; expiresAt: string; launchUrl: string };
}

/** Creates a token and exchanges it as the backend: an active impersonation session. */
export async function startSession(t: TestApp, world: World, member: Member = world.supportManager) {
  const { token } = await issueToken(t, world, member);
  const data = await gqlOk(t.url, world.backend, authenticateToken, { token });
  return data.authenticateImpersonationToken as {
    requestId: string;
    userId: string;
    sessionToken: string;
    sessionJwt: string;
    session: { id: string; startedAt: string; expiresAt: string; revokedAt: string | null };
  };
}
