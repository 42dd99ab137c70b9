import { afterEach, describe, expect, it } from "vitest";
import {
  AuditEventAddedDocument,
  CreateImpersonationTokenDocument,
  CreateMemberDocument,
  CreateProjectWithPolicyDocument,
  ExchangeTokenDocument,
  ImpersonationAllowedDocument,
  InstallWideAuditEventsDocument,
  MeDocument,
  ProjectAuditEventsDocument,
  ProjectsDocument,
  RotateProjectSecretDocument,
  RotatePublicTokenDocument,
  RotateTeamMemberApiKeyDocument,
  TeamMembersDocument,
  UpdateMemberDocument,
  UpdateProjectDocument,
  VerifyAuditLogDocument,
  VerifyInstallWideAuditLogDocument,
} from "./__generated__/graphql.js";
import { anonymous, asBackend, asFrontend, asMember, gql, gqlErrorCode, gqlOk, type Credential } from "./harness/client.js";
import type { Member } from "./harness/fixtures.js";
import { newMember, unique } from "./harness/core-operations.js";
import { useTestWorld } from "./harness/test-world.js";
import { connectWs, waitUntil, within, type WsConnection } from "./harness/ws-client.js";

/** SPEC §8: credentials lifecycle and administration, through the real endpoint. */
const { t, world } = useTestWorld();

const connections: WsConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
});

type Role = "ADMIN" | "DEVELOPER" | "SUPPORT_MANAGER" | "VIEWER";
const roles: Role[] = ["ADMIN", "DEVELOPER", "SUPPORT_MANAGER", "VIEWER"];

function memberOf(role: Role): Member {
  return { ADMIN: world.admin, DEVELOPER: world.developer, SUPPORT_MANAGER: world.supportManager, VIEWER: world.viewer }[role];
}

/** A fresh project of the world's ADMIN, with its credentials. */
async function newProject(redirect = `https://${unique("app")}.example.com/authenticate`) {
  const data = await gqlOk(t.url, world.admin.credential, CreateProjectWithPolicyDocument, { input: { name: unique("project"), loginRedirectUrl: redirect } });
  const { project, secret, publicToken } = data.createProject;
  return { id: project.id, secret, publicToken, backend: asBackend(project.id, secret), frontend: asFrontend(publicToken) };
}

/** Subscribes to a project's audit events and waits until the server listens. */
async function liveAuditSubscription(credential: Credential, projectId: string) {
  const connection = connectWs(t.wsUrl, credential);
  connections.push(connection);
  const listeners = () => t.app.services.auditQuery.listenerCount();
  const before = listeners();
  const subscription = connection.subscribe(AuditEventAddedDocument, { projectId });
  await waitUntil(() => listeners() > before || subscription.isEnded(), "the subscription is live");
  expect(subscription.isEnded()).toBe(false);
  return subscription;
}

/** A refused createImpersonationToken by the VIEWER in `projectId`: one FAILURE event there. */
async function marker(projectId: string, reason: string) {
  expect(
    await gqlErrorCode(t.url, world.viewer.credential, CreateImpersonationTokenDocument, { input: { projectId, userId: world.userId, reason } }),
  ).toBe("FORBIDDEN");
}

async function installWideEvents() {
  const data = await gqlOk(t.url, world.admin.credential, InstallWideAuditEventsDocument, { first: 500 });
  return data.auditEvents.edges.map((edge) => edge.node);
}

async function projectEvents(projectId: string) {
  const data = await gqlOk(t.url, world.admin.credential, ProjectAuditEventsDocument, { projectId, first: 500 });
  return data.auditEvents.edges.map((edge) => edge.node);
}

describe("me, projects, teamMembers", () => {
  it("me is the calling member, for every role; a backend or frontend is FORBIDDEN, no credential UNAUTHENTICATED", async () => {
    for (const role of roles) {
      const data = await gqlOk(t.url, memberOf(role).credential, MeDocument, {});
      expect(data.me).toEqual({ id: memberOf(role).id, email: memberOf(role).email, role, disabled: false });
    }
    expect(await gqlErrorCode(t.url, world.backend, MeDocument, {})).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, world.frontend, MeDocument, {})).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, anonymous, MeDocument, {})).toBe("UNAUTHENTICATED");
  });

  it("lists projects and members to every member role, a page at a time, and to no backend or frontend", async () => {
    for (const role of roles) {
      const credential = memberOf(role).credential;
      const all = (await gqlOk(t.url, credential, ProjectsDocument, { first: 500 })).projects;
      expect(all.edges.map((edge) => edge.node.id)).toEqual(expect.arrayContaining([world.projectId, world.other.projectId]));
      const first = (await gqlOk(t.url, credential, ProjectsDocument, { first: 1 })).projects;
      expect(first.edges).toHaveLength(1);
      expect(first.pageInfo.hasNextPage).toBe(true);
      const second = (await gqlOk(t.url, credential, ProjectsDocument, { first: 500, after: first.pageInfo.endCursor })).projects;
      expect([...first.edges, ...second.edges].map((edge) => edge.node.id)).toEqual(all.edges.map((edge) => edge.node.id));
      expect(second.pageInfo.hasNextPage).toBe(false);

      const members = (await gqlOk(t.url, credential, TeamMembersDocument, { first: 500 })).teamMembers;
      expect(members.edges.map((edge) => edge.node.id)).toEqual(expect.arrayContaining(roles.map((r) => memberOf(r).id)));
      const firstMember = (await gqlOk(t.url, credential, TeamMembersDocument, { first: 2 })).teamMembers;
      const rest = (await gqlOk(t.url, credential, TeamMembersDocument, { first: 500, after: firstMember.pageInfo.endCursor })).teamMembers;
      expect([...firstMember.edges, ...rest.edges].map((edge) => edge.node.id)).toEqual(members.edges.map((edge) => edge.node.id));
    }
    for (const credential of [world.backend, world.frontend]) {
      expect(await gqlErrorCode(t.url, credential, ProjectsDocument, {})).toBe("FORBIDDEN");
      expect(await gqlErrorCode(t.url, credential, TeamMembersDocument, {})).toBe("FORBIDDEN");
    }
    expect(await gqlErrorCode(t.url, anonymous, ProjectsDocument, {})).toBe("UNAUTHENTICATED");
  });
});

describe("rotateTeamMemberApiKey", () => {
  it("lets a member rotate its own key: the old one is refused at once, the new one works, and its live subscription ends", async () => {
    for (const role of roles) {
      const member = await newMember(t, world, role);
      const subscription = await liveAuditSubscription(member.credential, world.projectId);
      const control = await liveAuditSubscription(world.developer.credential, world.projectId);

      const data = await gqlOk(t.url, member.credential, RotateTeamMemberApiKeyDocument, { id: member.id });
      expect(data.rotateTeamMemberApiKey.member).toEqual({ id: member.id, email: member.email, role });
      const fresh = asMember(data.rotateTeamMemberApiKey.apiKey);
      expect(data.rotateTeamMemberApiKey.apiKey).not.toBe(member.apiKey);

      expect(await gqlErrorCode(t.url, member.credential, MeDocument, {})).toBe("UNAUTHENTICATED");
      expect((await gqlOk(t.url, fresh, MeDocument, {})).me?.id).toBe(member.id);

      await marker(world.projectId, `after rotating ${role}`);
      expect((await control.next()).data?.auditEventAdded.reason).toBe(`after rotating ${role}`);
      const end = await within(subscription.ended, 5_000, "the old key's subscription ends");
      expect(end.kind).toBe("error");
      if (end.kind === "error") expect(end.errors[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(subscription.buffered).toEqual([]);
      // A subscription with the new key works.
      const again = await liveAuditSubscription(fresh, world.projectId);
      await marker(world.projectId, `new key of ${role}`);
      expect((await again.next()).data?.auditEventAdded.reason).toBe(`new key of ${role}`);
    }
  });

  it("lets an ADMIN rotate anyone's key; any other role is FORBIDDEN for another member (whose key keeps working), a backend or frontend too", async () => {
    const target = await newMember(t, world, "VIEWER");
    for (const role of ["DEVELOPER", "SUPPORT_MANAGER", "VIEWER"] as const) {
      expect(await gqlErrorCode(t.url, memberOf(role).credential, RotateTeamMemberApiKeyDocument, { id: target.id })).toBe("FORBIDDEN");
    }
    expect(await gqlErrorCode(t.url, world.backend, RotateTeamMemberApiKeyDocument, { id: target.id })).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, world.frontend, RotateTeamMemberApiKeyDocument, { id: target.id })).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, anonymous, RotateTeamMemberApiKeyDocument, { id: target.id })).toBe("UNAUTHENTICATED");
    expect((await gqlOk(t.url, target.credential, MeDocument, {})).me?.id).toBe(target.id);

    const data = await gqlOk(t.url, world.admin.credential, RotateTeamMemberApiKeyDocument, { id: target.id });
    expect(await gqlErrorCode(t.url, target.credential, MeDocument, {})).toBe("UNAUTHENTICATED");
    expect((await gqlOk(t.url, asMember(data.rotateTeamMemberApiKey.apiKey), MeDocument, {})).me?.id).toBe(target.id);
    expect(await gqlErrorCode(t.url, world.admin.credential, RotateTeamMemberApiKeyDocument, { id: "member_unknown" })).toBe("NOT_FOUND");
  });
});

describe("rotateProjectSecret and rotatePublicToken", () => {
  it("replaces the backend secret (ADMIN only): the old one is refused at once, the new one works, its live subscription ends", async () => {
    const project = await newProject();
    for (const role of ["DEVELOPER", "SUPPORT_MANAGER", "VIEWER"] as const) {
      expect(await gqlErrorCode(t.url, memberOf(role).credential, RotateProjectSecretDocument, { projectId: project.id })).toBe("FORBIDDEN");
    }
    expect(await gqlErrorCode(t.url, project.backend, RotateProjectSecretDocument, { projectId: project.id })).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, project.frontend, RotateProjectSecretDocument, { projectId: project.id })).toBe("FORBIDDEN");
    expect(await gqlOk(t.url, project.backend, ImpersonationAllowedDocument, { projectId: project.id })).toBeTruthy();

    const subscription = await liveAuditSubscription(project.backend, project.id);
    const data = await gqlOk(t.url, world.admin.credential, RotateProjectSecretDocument, { projectId: project.id });
    expect(data.rotateProjectSecret.project.id).toBe(project.id);
    const fresh = asBackend(project.id, data.rotateProjectSecret.secret);

    expect(await gqlErrorCode(t.url, project.backend, ImpersonationAllowedDocument, { projectId: project.id })).toBe("UNAUTHENTICATED");
    expect((await gqlOk(t.url, fresh, ImpersonationAllowedDocument, { projectId: project.id })).impersonationPolicy.allowImpersonation).toBe(false);

    await marker(project.id, "after the secret rotation");
    const end = await within(subscription.ended, 5_000, "the old secret's subscription ends");
    expect(end.kind).toBe("error");
    if (end.kind === "error") expect(end.errors[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(subscription.buffered).toEqual([]);
  });

  it("replaces the public token (ADMIN only): the old one is refused at once, the new one works", async () => {
    const project = await newProject();
    for (const role of ["DEVELOPER", "SUPPORT_MANAGER", "VIEWER"] as const) {
      expect(await gqlErrorCode(t.url, memberOf(role).credential, RotatePublicTokenDocument, { projectId: project.id })).toBe("FORBIDDEN");
    }
    expect(await gqlErrorCode(t.url, project.backend, RotatePublicTokenDocument, { projectId: project.id })).toBe("FORBIDDEN");
    // The frontend's credential is accepted (the exchange fails for another reason) before the rotation.
    expect(await gqlErrorCode(t.url, project.frontend, ExchangeTokenDocument, { token: "it_unknown" })).not.toBe("UNAUTHENTICATED");

    const data = await gqlOk(t.url, world.admin.credential, RotatePublicTokenDocument, { projectId: project.id });
    const fresh = asFrontend(data.rotatePublicToken.publicToken);
    expect(await gqlErrorCode(t.url, project.frontend, ExchangeTokenDocument, { token: "it_unknown" })).toBe("UNAUTHENTICATED");
    expect(await gqlErrorCode(t.url, fresh, ExchangeTokenDocument, { token: "it_unknown" })).not.toBe("UNAUTHENTICATED");
    // The backend secret is untouched.
    expect(await gqlOk(t.url, project.backend, ImpersonationAllowedDocument, { projectId: project.id })).toBeTruthy();
  });
});

describe("updateProject", () => {
  it("changes the name and login redirect URL (ADMIN only), and the new URL's origin may call /graphql at once", async () => {
    const project = await newProject();
    const origin = `https://${unique("moved")}.example.org`;
    const preflight = () =>
      fetch(t.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, x-public-token" } });
    expect((await preflight()).headers.get("access-control-allow-origin")).toBeNull();
    for (const role of ["DEVELOPER", "SUPPORT_MANAGER", "VIEWER"] as const) {
      expect(await gqlErrorCode(t.url, memberOf(role).credential, UpdateProjectDocument, { id: project.id, input: { name: "x" } })).toBe("FORBIDDEN");
    }
    expect(await gqlErrorCode(t.url, project.backend, UpdateProjectDocument, { id: project.id, input: { name: "x" } })).toBe("FORBIDDEN");

    const renamed = await gqlOk(t.url, world.admin.credential, UpdateProjectDocument, { id: project.id, input: { name: "Renamed" } });
    expect(renamed.updateProject.name).toBe("Renamed");
    const moved = await gqlOk(t.url, world.admin.credential, UpdateProjectDocument, { id: project.id, input: { loginRedirectUrl: `${origin}/authenticate` } });
    expect(moved.updateProject).toEqual({ id: project.id, name: "Renamed", loginRedirectUrl: `${origin}/authenticate` });
    expect((await preflight()).headers.get("access-control-allow-origin")).toBe(origin);

    expect(await gqlErrorCode(t.url, world.admin.credential, UpdateProjectDocument, { id: project.id, input: { loginRedirectUrl: "ftp://x" } })).toBe("BAD_USER_INPUT");
    expect(await gqlErrorCode(t.url, world.admin.credential, UpdateProjectDocument, { id: "project_unknown", input: { name: "x" } })).toBe("NOT_FOUND");
  });
});

describe("audit of credential and administration changes", () => {
  it("records project changes in that project's log, success and failure, never with the secret, and the chain verifies", async () => {
    const project = await newProject();
    expect(await gqlErrorCode(t.url, world.developer.credential, RotateProjectSecretDocument, { projectId: project.id })).toBe("FORBIDDEN");
    const secret = (await gqlOk(t.url, world.admin.credential, RotateProjectSecretDocument, { projectId: project.id })).rotateProjectSecret.secret;
    const token = (await gqlOk(t.url, world.admin.credential, RotatePublicTokenDocument, { projectId: project.id })).rotatePublicToken.publicToken;
    expect(await gqlErrorCode(t.url, world.viewer.credential, RotatePublicTokenDocument, { projectId: project.id })).toBe("FORBIDDEN");
    await gqlOk(t.url, world.admin.credential, UpdateProjectDocument, { id: project.id, input: { name: "Audited" } });
    expect(await gqlErrorCode(t.url, world.admin.credential, UpdateProjectDocument, { id: project.id, input: { name: "" } })).toBe("BAD_USER_INPUT");

    const events = (await projectEvents(project.id)).reverse();
    expect(events.map((event) => [event.action, event.status, event.eventType, event.errorCode, event.actorType])).toEqual([
      ["RotateProjectSecret", "FAILURE", null, "FORBIDDEN", "member"],
      ["RotateProjectSecret", "SUCCESS", "dashboard.project.secret_rotate", null, "member"],
      ["RotatePublicToken", "SUCCESS", "dashboard.project.public_token_rotate", null, "member"],
      ["RotatePublicToken", "FAILURE", null, "FORBIDDEN", "member"],
      ["UpdateProject", "SUCCESS", "dashboard.project.update", null, "member"],
      ["UpdateProject", "FAILURE", null, "BAD_USER_INPUT", "member"],
    ]);
    expect(JSON.parse(events[1]!.details!)).toEqual({ credential: "secret" });
    expect(JSON.parse(events[4]!.details!).new.name).toBe("Audited");
    const json = JSON.stringify(events);
    for (const value of [secret, token, project.secret, project.publicToken]) expect(json).not.toContain(value);
    expect(await installWideEventsWithout(project.id)).toBe(true);
    expect((await gqlOk(t.url, world.admin.credential, VerifyAuditLogDocument, { projectId: project.id })).verifyAuditLog).toEqual({
      valid: true,
      checkedCount: 6,
      firstInvalidEventId: null,
    });
  });

  it("records member changes in the install-wide log, readable only by an ADMIN, never with a key, and that chain verifies", async () => {
    const before = (await installWideEvents()).length;
    const created = await gqlOk(t.url, world.admin.credential, CreateMemberDocument, { input: { email: `${unique("new")}@example.com`, role: "VIEWER" } });
    const id = created.createTeamMember.member.id;
    expect(await gqlErrorCode(t.url, world.developer.credential, CreateMemberDocument, { input: { email: `${unique("no")}@example.com`, role: "ADMIN" } })).toBe(
      "FORBIDDEN",
    );
    await gqlOk(t.url, world.admin.credential, UpdateMemberDocument, { id, input: { role: "DEVELOPER" } });
    expect(await gqlErrorCode(t.url, world.backend, UpdateMemberDocument, { id, input: { disabled: true } })).toBe("FORBIDDEN");
    // A backend's refusal is recorded in its own project's log, not the install-wide one.
    const [backendRefusal] = await projectEvents(world.projectId);
    expect(backendRefusal).toMatchObject({ action: "UpdateTeamMember", status: "FAILURE", errorCode: "FORBIDDEN", actorType: "backend", projectId: world.projectId });
    expect(JSON.parse(backendRefusal!.details!)).toEqual({ memberId: id });
    const rotated = await gqlOk(t.url, world.admin.credential, RotateTeamMemberApiKeyDocument, { id });
    expect(await gqlErrorCode(t.url, world.viewer.credential, RotateTeamMemberApiKeyDocument, { id })).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, world.admin.credential, UpdateMemberDocument, { id: "member_unknown", input: { disabled: true } })).toBe("NOT_FOUND");

    const after = await installWideEvents();
    const events = after.slice(0, after.length - before).reverse();
    expect(events.map((event) => [event.action, event.status, event.eventType, event.errorCode, event.actorType, event.projectId])).toEqual([
      ["CreateTeamMember", "SUCCESS", "dashboard.team_member.create", null, "member", ""],
      ["CreateTeamMember", "FAILURE", null, "FORBIDDEN", "member", ""],
      ["UpdateTeamMember", "SUCCESS", "dashboard.team_member.update", null, "member", ""],
      ["RotateTeamMemberApiKey", "SUCCESS", "dashboard.team_member.api_key_rotate", null, "member", ""],
      ["RotateTeamMemberApiKey", "FAILURE", null, "FORBIDDEN", "member", ""],
      ["UpdateTeamMember", "FAILURE", null, "NOT_FOUND", "member", ""],
    ]);
    expect(JSON.parse(events[0]!.details!)).toMatchObject({ memberId: id, role: "VIEWER" });
    expect(JSON.parse(events[2]!.details!)).toEqual({ memberId: id, old: { role: "VIEWER", disabled: false }, new: { role: "DEVELOPER", disabled: false } });
    expect(JSON.parse(events[3]!.details!)).toEqual({ memberId: id, credential: "apiKey" });
    const json = JSON.stringify(events);
    for (const key of [created.createTeamMember.apiKey, rotated.rotateTeamMemberApiKey.apiKey]) expect(json).not.toContain(key);

    for (const role of ["DEVELOPER", "SUPPORT_MANAGER", "VIEWER"] as const) {
      expect(await gqlErrorCode(t.url, memberOf(role).credential, InstallWideAuditEventsDocument, {})).toBe("FORBIDDEN");
      expect(await gqlErrorCode(t.url, memberOf(role).credential, VerifyInstallWideAuditLogDocument, {})).toBe("FORBIDDEN");
    }
    for (const credential of [world.backend, world.frontend]) {
      expect(await gqlErrorCode(t.url, credential, InstallWideAuditEventsDocument, {})).toBe("FORBIDDEN");
      expect(await gqlErrorCode(t.url, credential, VerifyInstallWideAuditLogDocument, {})).toBe("FORBIDDEN");
    }
    expect(await gqlErrorCode(t.url, anonymous, InstallWideAuditEventsDocument, {})).toBe("UNAUTHENTICATED");

    const all = await installWideEvents();
    expect((await gqlOk(t.url, world.admin.credential, VerifyInstallWideAuditLogDocument, {})).verifyAuditLog).toEqual({
      valid: true,
      checkedCount: all.length,
      firstInvalidEventId: null,
    });
  });
});

/** No event of the install-wide log is about `projectId` (project changes stay in their project's log). */
async function installWideEventsWithout(projectId: string): Promise<boolean> {
  const result = await gql(t.url, world.admin.credential, InstallWideAuditEventsDocument, { first: 500 });
  return !JSON.stringify(result.data).includes(projectId);
}
