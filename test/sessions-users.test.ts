import { beforeAll, describe, expect, it } from "vitest";
import { gql, type Credential } from "./harness/client.js";
import { CREATE_USER, expectCode, expectOk, newUser, openOtherProjectSession, openSession, REVOKE_SESSION, SESSIONS, USER, USERS } from "./harness/core-operations.js";
import { useTestWorld } from "./harness/test-world.js";

const { t, world } = useTestWorld();

interface Page {
  ids: string[];
  cursors: string[];
  hasNextPage: boolean;
  endCursor: string | null;
}

async function sessionsPage(variables: Record<string, unknown>, credential: Credential = world.viewer.credential): Promise<Page> {
  const data = expectOk(await gql(t.url, credential, SESSIONS, { projectId: world.projectId, ...variables })).sessions;
  return {
    ids: data.edges.map((edge: { node: { id: string } }) => edge.node.id),
    cursors: data.edges.map((edge: { cursor: string }) => edge.cursor),
    ...data.pageInfo,
  };
}

async function usersPage(variables: Record<string, unknown>): Promise<Page & { emails: string[] }> {
  const data = expectOk(await gql(t.url, world.developer.credential, USERS, { projectId: world.projectId, ...variables })).users;
  return {
    ids: data.edges.map((edge: { node: { id: string } }) => edge.node.id),
    emails: data.edges.map((edge: { node: { email: string } }) => edge.node.email),
    cursors: data.edges.map((edge: { cursor: string }) => edge.cursor),
    ...data.pageInfo,
  };
}

/** Walks every page with `first` and returns the ids in order. */
async function walk(fetchPage: (after: string | null) => Promise<Page>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await fetchPage(after);
    ids.push(...page.ids);
    if (!page.hasNextPage) return ids;
    expect(page.endCursor).toBe(page.cursors[page.cursors.length - 1]);
    after = page.endCursor;
  }
  throw new Error("pagination did not end");
}

describe("the sessions query", () => {
  // Newest first: D (revoked), C, B, A, E (expired).
  const s: Record<"A" | "B" | "C" | "D" | "E", string> = { A: "", B: "", C: "", D: "", E: "" };
  let u1: string;
  let u2: string;

  beforeAll(async () => {
    u1 = await newUser(t, world);
    u2 = await newUser(t, world);
    s.E = (await openSession(t, world, { userId: u1, member: world.supportManager })).session.id;
    t.clock.advance(61 * 60_000);
    s.A = (await openSession(t, world, { userId: u1, member: world.supportManager })).session.id;
    t.clock.advanceSeconds(1);
    s.B = (await openSession(t, world, { userId: u2, member: world.supportManager })).session.id;
    t.clock.advanceSeconds(1);
    s.C = (await openSession(t, world, { userId: u1, member: world.developer })).session.id;
    t.clock.advanceSeconds(1);
    s.D = (await openSession(t, world, { userId: u2, member: world.developer })).session.id;
    expectOk(await gql(t.url, world.backend, REVOKE_SESSION, { sessionId: s.D }));
    await openOtherProjectSession(t, world); // must never show up
  });

  it("lists the project's sessions newest first, and only the project's", async () => {
    const page = await sessionsPage({});
    expect(page.ids).toEqual([s.D, s.C, s.B, s.A, s.E]);
    expect(page.hasNextPage).toBe(false);
    expect(page.endCursor).toBe(page.cursors[4]);
    expect((await sessionsPage({}, world.backend)).ids).toEqual(page.ids);
  });

  it("filters by userId", async () => {
    expect((await sessionsPage({ userId: u1 })).ids).toEqual([s.C, s.A, s.E]);
    expect((await sessionsPage({ userId: "user_nobody" })).ids).toEqual([]);
  });

  it("filters by impersonatorId", async () => {
    expect((await sessionsPage({ impersonatorId: world.developer.id })).ids).toEqual([s.D, s.C]);
    expect((await sessionsPage({ impersonatorId: world.supportManager.id })).ids).toEqual([s.B, s.A, s.E]);
  });

  it("filters to active sessions: neither revoked nor expired", async () => {
    expect((await sessionsPage({ activeOnly: true })).ids).toEqual([s.C, s.B, s.A]);
    expect((await sessionsPage({ activeOnly: false })).ids).toEqual([s.D, s.C, s.B, s.A, s.E]);
  });

  it("combines filters", async () => {
    expect((await sessionsPage({ userId: u1, activeOnly: true })).ids).toEqual([s.C, s.A]);
    expect((await sessionsPage({ userId: u1, impersonatorId: world.developer.id })).ids).toEqual([s.C]);
    expect((await sessionsPage({ userId: u2, impersonatorId: world.developer.id, activeOnly: true })).ids).toEqual([]);
  });

  it("paginates with first/after, hasNextPage and endCursor", async () => {
    const first = await sessionsPage({ first: 2 });
    expect(first.ids).toEqual([s.D, s.C]);
    expect(first.hasNextPage).toBe(true);
    const second = await sessionsPage({ first: 2, after: first.endCursor });
    expect(second.ids).toEqual([s.B, s.A]);
    expect(second.hasNextPage).toBe(true);
    const third = await sessionsPage({ first: 2, after: second.endCursor });
    expect(third.ids).toEqual([s.E]);
    expect(third.hasNextPage).toBe(false);
    expect(third.endCursor).toBe(third.cursors[0]);

    const filtered = await sessionsPage({ first: 1, userId: u1, activeOnly: true });
    expect(filtered.ids).toEqual([s.C]);
    expect((await sessionsPage({ first: 1, userId: u1, activeOnly: true, after: filtered.endCursor })).ids).toEqual([s.A]);
  });

  it("keeps a stable order across pages when sessions start at the same instant", async () => {
    t.clock.advanceSeconds(1);
    const sameInstant = [];
    for (let i = 0; i < 4; i++) sameInstant.push((await openSession(t, world, { userId: u2 })).session.id);
    const all = (await sessionsPage({ first: 100 })).ids;
    expect(all).toHaveLength(9);
    expect(new Set(all.slice(0, 4))).toEqual(new Set(sameInstant));

    const walked = await walk(async (after) => sessionsPage({ first: 1, after }));
    expect(walked).toEqual(all);
    const walkedByThree = await walk(async (after) => sessionsPage({ first: 3, after }));
    expect(walkedByThree).toEqual(all);
  });

  it("returns an empty page with a null endCursor when nothing matches", async () => {
    const page = await sessionsPage({ userId: "user_nobody", first: 5 });
    expect(page).toMatchObject({ ids: [], hasNextPage: false, endCursor: null });
  });
});

describe("the users and user queries", () => {
  const emails = ["alice@acme.io", "bob@acme.io", "carol@elsewhere.org", "dave@elsewhere.org", "erin@elsewhere.org"];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const names: Record<string, string> = { "carol@elsewhere.org": "Carol ACME-fan", "dave@elsewhere.org": "100% Dave", "erin@elsewhere.org": "Erin_X" };
    for (const email of emails) {
      t.clock.advanceSeconds(1);
      ids[email] = await newUser(t, world, { email, name: names[email] });
    }
  });

  it("lists users oldest first and paginates through all of them exactly once", async () => {
    const all = await usersPage({ first: 100 });
    // The world's user and the two of the sessions tests come first (created at one instant), then these.
    expect(all.emails).toHaveLength(8);
    expect(all.emails).toContain("jane@customer.com");
    expect(all.emails.slice(3)).toEqual(emails);
    expect(all.hasNextPage).toBe(false);

    const first = await usersPage({ first: 2 });
    expect(first.ids).toEqual(all.ids.slice(0, 2));
    expect(first.hasNextPage).toBe(true);
    expect(first.endCursor).toBe(first.cursors[1]);

    expect(await walk((after) => usersPage({ first: 2, after }))).toEqual(all.ids);
    expect(await walk((after) => usersPage({ first: 4, after }))).toEqual(all.ids);
  });

  it("searches email and name, case-insensitively", async () => {
    expect((await usersPage({ search: "ACME" })).emails).toEqual(["alice@acme.io", "bob@acme.io", "carol@elsewhere.org"]);
    expect((await usersPage({ search: "carol" })).emails).toEqual(["carol@elsewhere.org"]);
    expect((await usersPage({ search: "fan" })).emails).toEqual(["carol@elsewhere.org"]);
    expect((await usersPage({ search: "nobody-matches-this" })).emails).toEqual([]);
  });

  it("treats LIKE wildcards in the search literally", async () => {
    expect((await usersPage({ search: "%" })).emails).toEqual(["dave@elsewhere.org"]);
    expect((await usersPage({ search: "_" })).emails).toEqual(["erin@elsewhere.org"]);
  });

  it("paginates a search", async () => {
    const first = await usersPage({ search: "acme", first: 2 });
    expect(first.emails).toEqual(["alice@acme.io", "bob@acme.io"]);
    expect(first.hasNextPage).toBe(true);
    const second = await usersPage({ search: "acme", first: 2, after: first.endCursor });
    expect(second.emails).toEqual(["carol@elsewhere.org"]);
    expect(second.hasNextPage).toBe(false);
  });

  it("returns a user by id, and null for an unknown id or another project's user", async () => {
    const user = expectOk(await gql(t.url, world.viewer.credential, USER, { projectId: world.projectId, id: ids["bob@acme.io"] })).user;
    expect(user).toEqual({ id: ids["bob@acme.io"], projectId: world.projectId, email: "bob@acme.io", name: null });

    for (const id of ["user_doesnotexist", world.other.userId]) {
      const result = await gql(t.url, world.viewer.credential, USER, { projectId: world.projectId, id });
      expect(result.errors).toBeUndefined();
      expect(result.data!.user).toBeNull();
    }
  });

  it("refuses a duplicate email within a project (BAD_USER_INPUT), case-insensitively, but allows it in another", async () => {
    for (const email of ["bob@acme.io", "BOB@Acme.IO", "  bob@acme.io  "]) {
      expectCode(await gql(t.url, world.admin.credential, CREATE_USER, { input: { projectId: world.projectId, email } }), "BAD_USER_INPUT");
    }
    const elsewhere = expectOk(await gql(t.url, world.admin.credential, CREATE_USER, { input: { projectId: world.other.projectId, email: "bob@acme.io" } }));
    expect(elsewhere.createUser.projectId).toBe(world.other.projectId);
    expect((await usersPage({ search: "bob" })).emails).toEqual(["bob@acme.io"]);
  });
});
