import { beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticateTokenDocument,
  CreateImpersonationTokenDocument,
  CreateUserWithExternalIdDocument,
  FindUserDocument,
  UpdateUserDocument,
} from "./__generated__/graphql.js";
import { gql, type Credential } from "./harness/client.js";
import { auditRows, countRows, expectCode, expectOk, unique } from "./harness/core-operations.js";
import { useTestWorld } from "./harness/test-world.js";

/** SPEC §9, protected users and external ids: through the real endpoint, on the vitest project's database. */
const { t, world } = useTestWorld();

async function createUser(credential: Credential, input: { externalId?: string | null; projectId?: string } = {}) {
  return gql(t.url, credential, CreateUserWithExternalIdDocument, {
    input: { projectId: input.projectId ?? world.projectId, email: `${unique("u")}@example.com`, externalId: input.externalId },
  });
}

async function newUserId(): Promise<string> {
  return expectOk(await createUser(world.backend)).createUser.id;
}

function updateUser(credential: Credential, id: string, input: { name?: string; protected?: boolean; externalId?: string }, projectId = world.projectId) {
  return gql(t.url, credential, UpdateUserDocument, { projectId, id, input });
}

function createToken(userId: string) {
  return gql(t.url, world.supportManager.credential, CreateImpersonationTokenDocument, {
    input: { projectId: world.projectId, userId, reason: "Customer reports a blank dashboard" },
  });
}

async function protectedOf(id: string): Promise<boolean> {
  const found = expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, id })).user;
  return found!.protected;
}

describe("external ids", () => {
  it("creates a user with an externalId (trimmed) and finds it by that id", async () => {
    const externalId = unique("ext");
    const created = expectOk(await createUser(world.developer.credential, { externalId: `  ${externalId} ` })).createUser;
    expect(created).toMatchObject({ externalId, protected: false });
    const byExternal = expectOk(await gql(t.url, world.viewer.credential, FindUserDocument, { projectId: world.projectId, externalId })).user;
    expect(byExternal).toMatchObject({ id: created.id, externalId });
    const byId = expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, id: created.id })).user;
    expect(byId).toMatchObject({ id: created.id, externalId });
    // Another project's look-up does not see it.
    expect(expectOk(await gql(t.url, world.other.backend, FindUserDocument, { projectId: world.other.projectId, externalId })).user).toBeNull();
    expect(expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, externalId: unique("none") })).user).toBeNull();
  });

  it("refuses a duplicate externalId in the project, by create and by update, and allows it in another project", async () => {
    const externalId = unique("dup");
    expectOk(await createUser(world.backend, { externalId }));
    const before = await countRows(t, "users");
    expectCode(await createUser(world.backend, { externalId }), "BAD_USER_INPUT");
    expect(await countRows(t, "users")).toBe(before);
    expectOk(await createUser(world.other.backend, { externalId, projectId: world.other.projectId }));

    const other = await newUserId();
    expectCode(await updateUser(world.admin.credential, other, { externalId, name: "Changed" }), "BAD_USER_INPUT");
    const after = expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, id: other })).user;
    expect(after!.externalId).toBeNull();
  });

  it("refuses a bad externalId: empty, too long, control characters", async () => {
    for (const externalId of ["   ", "x".repeat(257), "a\u0000b", "a\nb"]) {
      expectCode(await createUser(world.backend, { externalId }), "BAD_USER_INPUT");
    }
    expectOk(await createUser(world.backend, { externalId: "é".repeat(256) }));
  });

  it("user() needs exactly one of id and externalId", async () => {
    expectCode(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId }), "BAD_USER_INPUT");
    expectCode(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, id: world.userId, externalId: "x" }), "BAD_USER_INPUT");
  });
});

describe("updateUser", () => {
  it("follows the matrix: ADMIN, DEVELOPER, SUPPORT_MANAGER and the own backend; never VIEWER, frontend or another backend", async () => {
    const id = await newUserId();
    const allowed: Array<[string, Credential]> = [
      ["admin", world.admin.credential],
      ["developer", world.developer.credential],
      ["support", world.supportManager.credential],
      ["backend", world.backend],
    ];
    for (const [label, credential] of allowed) {
      const externalId = unique(label);
      const updated = expectOk(await updateUser(credential, id, { name: label, externalId })).updateUser;
      expect(updated).toMatchObject({ id, name: label, externalId, protected: false });
    }
    const refused: Array<[Credential, string]> = [
      [world.viewer.credential, "FORBIDDEN"],
      [world.frontend, "FORBIDDEN"],
      [{ kind: "none" }, "UNAUTHENTICATED"],
    ];
    for (const [credential, code] of refused) expectCode(await updateUser(credential, id, { name: "nope" }), code);
    // Another project's backend: refused for this project, and this user is not found in its own.
    expectCode(await updateUser(world.other.backend, id, { name: "nope" }), "FORBIDDEN");
    expectCode(await updateUser(world.other.backend, id, { name: "nope" }, world.other.projectId), "NOT_FOUND");
    const found = expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, id })).user;
    expect(found!.externalId).toMatch(/^backend-/);
  });

  it("lets only an ADMIN change protected: anyone else is FORBIDDEN and nothing changes", async () => {
    const id = await newUserId();
    for (const credential of [world.developer.credential, world.supportManager.credential, world.backend]) {
      expectCode(await updateUser(credential, id, { protected: true, name: "Sneaky" }), "FORBIDDEN");
    }
    const unchanged = expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, id })).user;
    expect(unchanged!.protected).toBe(false);
    expect((await auditRows(t, "action = ? and user_id = ? and status = ?", ["UpdateUser", id, "FAILURE"])).map((row) => row.error_code)).toEqual([
      "FORBIDDEN",
      "FORBIDDEN",
      "FORBIDDEN",
    ]);

    expect(expectOk(await updateUser(world.admin.credential, id, { protected: true })).updateUser.protected).toBe(true);
    expect(await protectedOf(id)).toBe(true);
  });

  it("audits a change of protected as UpdateUser (dashboard.user.update) with the old and new value", async () => {
    const id = await newUserId();
    expectOk(await updateUser(world.admin.credential, id, { protected: true }));
    const [event] = await auditRows(t, "action = ? and user_id = ? and status = ?", ["UpdateUser", id, "SUCCESS"]);
    expect(event).toMatchObject({ project_id: world.projectId, event_type: "dashboard.user.update", impersonator_id: null });
    expect(JSON.parse(event!.details!)).toMatchObject({ old: { protected: false }, new: { protected: true }, changed: ["protected"] });

    // A VIEWER refused by the matrix is audited too, in the project's log.
    expectCode(await updateUser(world.viewer.credential, id, { protected: false }), "FORBIDDEN");
    const failures = await auditRows(t, "action = ? and user_id = ? and status = ?", ["UpdateUser", id, "FAILURE"]);
    expect(failures.map((row) => [row.project_id, row.error_code])).toEqual([[world.projectId, "FORBIDDEN"]]);
    expect(await protectedOf(id)).toBe(true);
  });
});

describe("impersonating a protected user", () => {
  let id: string;
  beforeAll(async () => {
    id = await newUserId();
  });

  it("refuses createImpersonationToken with APPROVAL_REQUIRED, audited as a FAILURE, and creates no token", async () => {
    expectOk(await updateUser(world.admin.credential, id, { protected: true }));
    const tokensBefore = await countRows(t, "impersonation_tokens", "user_id = ?", [id]);
    expectCode(await createToken(id), "APPROVAL_REQUIRED");
    expect(await countRows(t, "impersonation_tokens", "user_id = ?", [id])).toBe(tokensBefore);
    const events = await auditRows(t, "action = ? and user_id = ?", ["CreateImpersonationToken", id]);
    expect(events.map((row) => [row.status, row.error_code, row.event_type])).toEqual([["FAILURE", "APPROVAL_REQUIRED", null]]);
    expect(events[0]!.impersonator_id).toBe(world.supportManager.id);
    expectOk(await updateUser(world.admin.credential, id, { protected: false }));
  });

  it("refuses the exchange when the user became protected after the token was created; the token stays unused", async () => {
    const { token } = expectOk(await createToken(id)).createImpersonationToken;
    expectOk(await updateUser(world.admin.credential, id, { protected: true }));

    expectCode(await gql(t.url, world.backend, AuthenticateTokenDocument, { token }), "APPROVAL_REQUIRED");
    const refused = await auditRows(t, "action = ? and user_id = ?", ["AuthenticateImpersonationToken", id]);
    expect(refused.map((row) => [row.status, row.error_code])).toEqual([["FAILURE", "APPROVAL_REQUIRED"]]);
    expect(await countRows(t, "impersonation_tokens", "user_id = ? and used_at is null", [id])).toBe(1);
    expect(await countRows(t, "sessions", "user_id = ?", [id])).toBe(0);

    expectOk(await updateUser(world.admin.credential, id, { protected: false }));
    const exchanged = expectOk(await gql(t.url, world.backend, AuthenticateTokenDocument, { token })).authenticateImpersonationToken;
    expect(exchanged.userId).toBe(id);
    expect(await countRows(t, "impersonation_tokens", "user_id = ? and used_at is null", [id])).toBe(0);
  });
});
