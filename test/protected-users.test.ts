import { beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticateTokenDocument,
  CreateImpersonationTokenDocument,
  CreateUserWithExternalIdDocument,
  FindUserDocument,
  UpdateUserDocument,
} from "./__generated__/graphql.js";
import { expectAuditLogValid } from "./harness/approvals.js";
import { gql, type Credential } from "./harness/client.js";
import { auditRows, countRows, expectCode, expectOk, unique } from "./harness/core-operations.js";
import { testDatabaseKind } from "./harness/databases.js";
import { useTestWorld } from "./harness/test-world.js";
import { eventually } from "./harness/webhook-receiver.js";

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

describe("a protected user's externalId (the application logs in by it)", () => {
  /** A protected user holding a fresh externalId, as the application's VIP account. */
  async function protectedVip(): Promise<{ vip: string; externalId: string }> {
    const externalId = unique("ext-vip");
    const vip = expectOk(await createUser(world.backend, { externalId })).createUser.id;
    expectOk(await updateUser(world.admin.credential, vip, { protected: true }));
    return { vip, externalId };
  }

  async function byExternalId(externalId: string) {
    return expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, externalId })).user;
  }

  async function userById(id: string) {
    return expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, id })).user!;
  }

  /** Members who may update users but not protect them (the backend, the application itself, may move its own ids). */
  const nonAdmins = (): Array<[string, Credential, string]> => [
    ["SUPPORT_MANAGER", world.supportManager.credential, "member"],
    ["DEVELOPER", world.developer.credential, "member"],
  ];

  it("refuses the swap attack (move the VIP's externalId off it, onto an unprotected user) for every non-ADMIN member: FORBIDDEN, nothing changes, audited", async () => {
    for (const [label, credential, actorType] of nonAdmins()) {
      const { vip, externalId } = await protectedVip();
      const decoy = await newUserId();
      const attempted = unique(`moved-by-${label}`);

      // Step one of the attack: refused, the VIP keeps its id.
      expectCode(await updateUser(credential, vip, { externalId: attempted }), "FORBIDDEN");
      // Step two: the id is still taken, by the VIP.
      expectCode(await updateUser(credential, decoy, { externalId }), "BAD_USER_INPUT");
      expect(await byExternalId(externalId)).toMatchObject({ id: vip, protected: true, externalId });
      expect((await userById(decoy)).externalId).toBeNull();
      expect(await byExternalId(attempted)).toBeNull();

      // The refusal is a FAILURE event of the VIP, with the id it held and the one attempted.
      const [failure, ...more] = await auditRows(t, "action = ? and user_id = ? and status = ?", ["UpdateUser", vip, "FAILURE"]);
      expect(more).toHaveLength(0);
      expect(failure).toMatchObject({ error_code: "FORBIDDEN", project_id: world.projectId, actor_type: actorType });
      expect(JSON.parse(failure!.details!)).toMatchObject({ old: { protected: true, externalId }, new: { protected: true, externalId: attempted }, changed: ["externalId"] });
    }
  });

  it("so impersonating the unprotected decoy without approval stays an impersonation of the decoy", async () => {
    const { vip, externalId } = await protectedVip();
    const decoy = await newUserId();
    expectCode(await updateUser(world.supportManager.credential, vip, { externalId: unique("x") }), "FORBIDDEN");
    expectCode(await updateUser(world.supportManager.credential, decoy, { externalId }), "BAD_USER_INPUT");
    const { token } = expectOk(await createToken(decoy)).createImpersonationToken;
    const exchanged = expectOk(await gql(t.url, world.backend, AuthenticateTokenDocument, { token })).authenticateImpersonationToken;
    expect(exchanged.userId).toBe(decoy);
    // The application maps the session's user to its account by externalId: not the VIP's.
    expect((await userById(exchanged.userId)).externalId).not.toBe(externalId);
    expectCode(await createToken(vip), "APPROVAL_REQUIRED");
  });

  it("refuses giving a protected user without one an externalId; still allows its name, and repeating the id it has", async () => {
    const vip = await newUserId();
    expectOk(await updateUser(world.admin.credential, vip, { protected: true }));
    for (const [, credential] of nonAdmins()) expectCode(await updateUser(credential, vip, { externalId: unique("new") }), "FORBIDDEN");
    expect((await userById(vip)).externalId).toBeNull();

    const { vip: holder, externalId } = await protectedVip();
    for (const [label, credential] of nonAdmins()) {
      const updated = expectOk(await updateUser(credential, holder, { name: `Renamed by ${label}`, externalId })).updateUser;
      expect(updated).toMatchObject({ id: holder, name: `Renamed by ${label}`, externalId, protected: true });
    }
  });

  it("lets the project's backend (the application, whose id it is) move a protected user's externalId, audited", async () => {
    const { vip, externalId } = await protectedVip();
    const next = unique("ext-vip-by-app");
    expect(expectOk(await updateUser(world.backend, vip, { externalId: next })).updateUser).toMatchObject({ id: vip, externalId: next, protected: true });
    const [event] = await auditRows(t, "action = ? and user_id = ? and status = ? and actor_type = ?", ["UpdateUser", vip, "SUCCESS", "backend"]).then((rows) => rows.slice(-1));
    expect(JSON.parse(event!.details!)).toEqual({ old: { protected: true, externalId }, new: { protected: true, externalId: next }, changed: ["externalId"] });
    // Another project's backend still may not.
    expectCode(await updateUser(world.other.backend, vip, { externalId: unique("x") }), "FORBIDDEN");
    expect((await userById(vip)).externalId).toBe(next);
  });

  it("lets an ADMIN move a protected user's externalId, audited with the old and new id", async () => {
    const { vip, externalId } = await protectedVip();
    const next = unique("ext-vip-next");
    expect(expectOk(await updateUser(world.admin.credential, vip, { externalId: next })).updateUser).toMatchObject({ id: vip, externalId: next, protected: true });
    const [event] = await auditRows(t, "action = ? and user_id = ? and status = ? and actor_id = ?", ["UpdateUser", vip, "SUCCESS", world.admin.id]).then((rows) => rows.slice(-1));
    expect(JSON.parse(event!.details!)).toEqual({ old: { protected: true, externalId }, new: { protected: true, externalId: next }, changed: ["externalId"] });
    // The freed id may then go to another user.
    const other = await newUserId();
    expectOk(await updateUser(world.supportManager.credential, other, { externalId }));
    expect((await byExternalId(externalId))!.id).toBe(other);
  });

  it("still lets non-ADMINs change an unprotected user's externalId, audited with the old and new id", async () => {
    for (const [label, credential] of nonAdmins()) {
      const first = unique(`first-${label}`);
      const id = expectOk(await createUser(world.backend, { externalId: first })).createUser.id;
      const second = unique(`second-${label}`);
      expect(expectOk(await updateUser(credential, id, { externalId: second })).updateUser.externalId).toBe(second);
      const [event] = await auditRows(t, "action = ? and user_id = ? and status = ?", ["UpdateUser", id, "SUCCESS"]);
      expect(JSON.parse(event!.details!)).toEqual({ old: { protected: false, externalId: first }, new: { protected: false, externalId: second }, changed: ["externalId"] });
    }
  });

  it("never lets a non-ADMIN's change land on a user an ADMIN protects concurrently (20 rounds, checked from the audit log)", async () => {
    for (let round = 0; round < 20; round++) {
      const initial = unique("race");
      const id = expectOk(await createUser(world.backend, { externalId: initial })).createUser.id;
      const moveTo = unique("race-moved");
      const protecting = () => updateUser(world.admin.credential, id, { protected: true });
      const moving = () => updateUser(world.supportManager.credential, id, { externalId: moveTo });
      // Alternate which request leaves first.
      const [protectResult, moveResult] = round % 2 === 0 ? await Promise.all([protecting(), moving()]) : (await Promise.all([moving(), protecting()])).reverse();
      expectOk(protectResult!);
      const moveCode = moveResult!.errors?.[0]?.extensions?.code ?? "OK";
      expect(["OK", "FORBIDDEN"]).toContain(moveCode);

      // Replaying the user's UpdateUser events in chain order gives its final state, and every
      // SUCCESS saw the state the previous one left: a protected user's externalId is only ever
      // changed by an ADMIN.
      const events = await auditRows(t, "action = ? and user_id = ?", ["UpdateUser", id]);
      expect(events.map((e) => [e.status, e.error_code, e.actor_id])).toEqual(
        expect.arrayContaining([["SUCCESS", null, world.admin.id], moveCode === "OK" ? ["SUCCESS", null, world.supportManager.id] : ["FAILURE", "FORBIDDEN", world.supportManager.id]]),
      );
      expect(events).toHaveLength(2);
      // A refusal only ever follows the protection it ran into.
      if (moveCode === "FORBIDDEN") expect(events.map((e) => e.status)).toEqual(["SUCCESS", "FAILURE"]);
      let state = { protected: false, externalId: initial as string | null };
      for (const event of events.filter((e) => e.status === "SUCCESS")) {
        const details = JSON.parse(event.details!);
        expect(details.old).toEqual(state);
        if (details.old.externalId !== details.new.externalId && details.old.protected) expect(event.actor_id).toBe(world.admin.id);
        state = details.new;
      }
      const final = await userById(id);
      expect({ protected: final.protected, externalId: final.externalId }).toEqual(state);
      expect(final).toMatchObject({ protected: true, externalId: moveCode === "OK" ? moveTo : initial });
    }
    await expectAuditLogValid(t, world);
  });
});

describe.runIf(testDatabaseKind() === "postgresql")("a protection committed while a non-ADMIN's change waits for the row (PostgreSQL)", () => {
  /**
   * Another connection protects the user inside an open transaction (as an ADMIN's call on another
   * instance could), after the non-ADMIN's call has read the user as unprotected: its write waits for
   * the row, and the commit decides. Read-then-write would move the id of a user now protected.
   * (On SQLite one connection runs every transaction in turn: they cannot interleave like this.)
   */
  async function withProtectionPending<T>(id: string, call: () => Promise<T>): Promise<T> {
    const pg = (await import("pg")).default;
    const admin = new pg.Client({ connectionString: t.databaseUrl });
    // Watches from outside that transaction: pg_stat_activity is a snapshot within one.
    const watcher = new pg.Client({ connectionString: t.databaseUrl });
    await admin.connect();
    await watcher.connect();
    try {
      await admin.query("begin");
      await admin.query("update users set protected = true where id = $1", [id]);
      const pending = call();
      await eventually(async () => {
        const { rows } = await watcher.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'update users %'",
        );
        return Number(rows[0]!.n) > 0;
      }, 10_000, "the non-ADMIN's update waiting for the row");
      await admin.query("commit");
      return await pending;
    } finally {
      await admin.end();
      await watcher.end();
    }
  }

  it("refuses the externalId change (FORBIDDEN, audited) and leaves the id where it was", async () => {
    const initial = unique("pending");
    const id = expectOk(await createUser(world.backend, { externalId: initial })).createUser.id;
    const result = await withProtectionPending(id, () => updateUser(world.supportManager.credential, id, { externalId: unique("moved") }));
    expectCode(result, "FORBIDDEN");
    const found = expectOk(await gql(t.url, world.backend, FindUserDocument, { projectId: world.projectId, id })).user;
    expect(found).toMatchObject({ protected: true, externalId: initial });
    const events = await auditRows(t, "action = ? and user_id = ?", ["UpdateUser", id]);
    expect(events.map((e) => [e.status, e.error_code])).toEqual([["FAILURE", "FORBIDDEN"]]);
  });

  it("lets a name change through without undoing the protection", async () => {
    const id = await newUserId();
    expectOk(await withProtectionPending(id, () => updateUser(world.supportManager.credential, id, { name: "Renamed meanwhile" })));
    expect(await protectedOf(id)).toBe(true);
  });
});
