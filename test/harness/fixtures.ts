import { databaseOf } from "../../src/db/database-of.js";
import { bootstrap } from "../../src/modules/bootstrap/bootstrap.service.js";
import {
  AuthenticateTokenDocument,
  CreateImpersonationTokenDocument,
  CreateProjectDocument,
  CreateTeamMemberDocument,
  CreateUserDocument,
  SetImpersonationPolicyDocument,
  type TeamRole,
} from "../__generated__/graphql.js";
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

export interface WorldOptions {
  /** Enable impersonation on the first project (default true). */
  allowImpersonation?: boolean;
  allowFrontendAuthentication?: boolean;
}

let counter = 0;

/**
 * A bootstrapped install (the same code path as `npm run bootstrap`) with one member of each role,
 * a user, and a second project; impersonation is enabled on the first project unless told not to.
 */
export async function createWorld(t: TestApp, options: WorldOptions = {}): Promise<World> {
  const boot = await bootstrap({ ...t.app.services, db: databaseOf(t.app.orm.em) }, {
    adminEmail: "admin@example.com",
    projectName: "Demo",
    loginRedirectUrl: "https://app.example.com/authenticate",
  });
  const admin: Member = { id: boot.adminMemberId, email: "admin@example.com", apiKey: boot.adminApiKey, credential: asMember(boot.adminApiKey) };
  const member = async (role: TeamRole): Promise<Member> => {
    const email = `${role.toLowerCase()}-${++counter}@example.com`;
    const data = await gqlOk(t.url, admin.credential, CreateTeamMemberDocument, { input: { email, role, name: role } });
    const { member, apiKey } = data.createTeamMember;
    return { id: member.id, email: member.email, apiKey, credential: asMember(apiKey) };
  };
  const developer = await member("DEVELOPER");
  const supportManager = await member("SUPPORT_MANAGER");
  const viewer = await member("VIEWER");
  const backend = asBackend(boot.projectId, boot.projectSecret);
  const user = await gqlOk(t.url, admin.credential, CreateUserDocument, { input: { projectId: boot.projectId, email: "jane@customer.com", name: "Jane" } });

  const otherProject = (await gqlOk(t.url, admin.credential, CreateProjectDocument, { input: { name: "Other", loginRedirectUrl: "https://other.example.com/auth" } })).createProject;
  const otherUser = await gqlOk(t.url, admin.credential, CreateUserDocument, { input: { projectId: otherProject.project.id, email: "bob@other.com" } });
  await gqlOk(t.url, admin.credential, SetImpersonationPolicyDocument, { projectId: otherProject.project.id, input: { allowImpersonation: true, allowFrontendAuthentication: true } });

  if (options.allowImpersonation !== false) {
    await gqlOk(t.url, admin.credential, SetImpersonationPolicyDocument, {
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

/** Creates a token as `member` for the world's user. */
export async function issueToken(t: TestApp, world: World, member: Member = world.supportManager, reason = "Customer reports a blank dashboard") {
  const data = await gqlOk(t.url, member.credential, CreateImpersonationTokenDocument, { input: { projectId: world.projectId, userId: world.userId, reason } });
  return data.createImpersonationToken;
}

/** Creates a token and exchanges it as the backend: an active impersonation session. */
export async function startSession(t: TestApp, world: World, member: Member = world.supportManager) {
  const { token } = await issueToken(t, world, member);
  const data = await gqlOk(t.url, world.backend, AuthenticateTokenDocument, { token });
  return data.authenticateImpersonationToken;
}
