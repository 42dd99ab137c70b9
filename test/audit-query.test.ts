import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEventFilter, AuditEventsQuery } from "./__generated__/graphql.js";
import {
  AuditEventsDocument,
  AuthenticateImpersonationTokenDocument,
  CreateImpersonationTokenDocument,
  CreateProjectDocument,
  CreateUserDocument,
  RevokeSessionDocument,
} from "./__generated__/graphql.js";
import { anonymous, asMember, gql, gqlErrorCode, gqlOk, type Credential } from "./harness/client.js";
import { createWorld, issueToken, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { databaseOf } from "../src/db/database-of.js";
import type { AuditCaller } from "../src/modules/audit/audit-log.service.js";
import { AuditStatus } from "../src/modules/audit/audit-status.js";
import { TeamMember } from "../src/modules/members/team-member.entity.js";
import { User } from "../src/modules/users/user.entity.js";

type Node = AuditEventsQuery["auditEvents"]["edges"][number]["node"];

let t: TestApp;
let world: World;
/** SQL statements logged while `counting` is on. */
let statements: string[] = [];
let counting = false;

beforeAll(async () => {
  t = await startTestApp({
    onQuery: (sql) => {
      if (counting) statements.push(sql);
    },
  });
  world = await createWorld(t);
});
afterAll(async () => t?.close());

async function page(credential: Credential, variables: { projectId?: string; filter?: AuditEventFilter; first?: number; after?: string | null }) {
  const data = await gqlOk(t.url, credential, AuditEventsDocument, { projectId: world.projectId, ...variables });
  return data.auditEvents;
}

/** Every event of the project (newest first), through the API. */
async function allEvents(projectId = world.projectId, filter?: AuditEventFilter): Promise<Node[]> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (;;) {
    const result = await page(world.admin.credential, { projectId, filter, first: 500, after });
    nodes.push(...result.edges.map((edge) => edge.node));
    if (!result.pageInfo.hasNextPage) return nodes;
    after = result.pageInfo.endCursor;
  }
}

/** A refused createImpersonationToken (a VIEWER may not): one FAILURE event, quickly. */
async function refusedTokenAttempt(reason: string) {
  const code = await gqlErrorCode(t.url, world.viewer.credential, CreateImpersonationTokenDocument, {
    input: { projectId: world.projectId, userId: world.userId, reason },
  });
  expect(code).toBe("FORBIDDEN");
}

describe("auditEvents", () => {
  it("lists the newest event first, with every contract field and the nested user and impersonator", async () => {
    const created = await issueToken(t, world, world.supportManager, "Ticket 4711: blank dashboard");
    const exchanged = await gqlOk(t.url, world.backend, AuthenticateImpersonationTokenDocument, { token: created.token });

    const { edges, pageInfo } = await page(world.viewer.credential, { first: 2 });
    expect(edges).toHaveLength(2);
    expect(pageInfo.hasNextPage).toBe(true);
    const [authenticated, issued] = edges.map((edge) => edge.node) as [Node, Node];

    expect(authenticated).toMatchObject({
      projectId: world.projectId,
      action: "AuthenticateImpersonationToken",
      eventType: "direct.user.impersonate",
      status: "SUCCESS",
      errorCode: null,
      requestId: exchanged.authenticateImpersonationToken.requestId,
      userId: world.userId,
      user: { id: world.userId, projectId: world.projectId, email: "jane@customer.com", name: "Jane" },
      impersonatorId: world.supportManager.id,
      impersonatorEmail: world.supportManager.email,
      impersonator: { id: world.supportManager.id, email: world.supportManager.email, role: "SUPPORT_MANAGER", disabled: false },
      reason: "Ticket 4711: blank dashboard",
      sessionId: exchanged.authenticateImpersonationToken.session.id,
    });
    expect(authenticated.ipAddress).toBeTruthy();
    expect(new Date(authenticated.createdAt).toISOString()).toBe(authenticated.createdAt);

    expect(issued).toMatchObject({
      action: "CreateImpersonationToken",
      eventType: "dashboard.impersonation_token.create",
      status: "SUCCESS",
      userId: world.userId,
      impersonatorId: world.supportManager.id,
      reason: "Ticket 4711: blank dashboard",
      sessionId: null,
    });
    expect(issued.id).not.toBe(authenticated.id);
  });

  it("pages with opaque cursors that neither shift nor repeat while new events arrive", async () => {
    for (let i = 0; i < 7; i++) await refusedTokenAttempt(`before paging ${i}`);
    const snapshot = await allEvents();

    const first = await page(world.admin.credential, { first: 3 });
    expect(first.edges.map((edge) => edge.node.id)).toEqual(snapshot.slice(0, 3).map((node) => node.id));
    expect(() => JSON.parse(first.pageInfo.endCursor!)).toThrow(); // not a readable id or number

    // Five newer events commit while the client is between pages.
    for (let i = 0; i < 5; i++) await refusedTokenAttempt(`while paging ${i}`);

    const seen = first.edges.map((edge) => edge.node.id);
    let after = first.pageInfo.endCursor;
    let hasNextPage = first.pageInfo.hasNextPage;
    while (hasNextPage) {
      const next = await page(world.admin.credential, { first: 3, after });
      seen.push(...next.edges.map((edge) => edge.node.id));
      after = next.pageInfo.endCursor;
      hasNextPage = next.pageInfo.hasNextPage;
    }
    expect(seen).toEqual(snapshot.map((node) => node.id));

    // The newer events are all there, before the first page.
    const now = await allEvents();
    expect(now).toHaveLength(snapshot.length + 5);
    expect(now.slice(5).map((node) => node.id)).toEqual(snapshot.map((node) => node.id));
    expect(now[0]!.reason).toBe("while paging 4");
  });

  it("returns an empty last page and no endCursor past the end", async () => {
    const all = await allEvents();
    const last = all[all.length - 1]!;
    const { edges: tail } = await page(world.admin.credential, { first: all.length });
    const result = await page(world.admin.credential, { first: 5, after: tail[tail.length - 1]!.cursor });
    expect(tail[tail.length - 1]!.node.id).toBe(last.id);
    expect(result.edges).toEqual([]);
    expect(result.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });

  it("filters by actions, status, userId, impersonatorId, since and until", async () => {
    const secondUser = (await gqlOk(t.url, world.admin.credential, CreateUserDocument, {
      input: { projectId: world.projectId, email: "filter-user@customer.com" },
    })).createUser;
    t.clock.advance(60_000);
    const windowStart = t.clock.now();
    const byDeveloper = await gqlOk(t.url, world.developer.credential, CreateImpersonationTokenDocument, {
      input: { projectId: world.projectId, userId: secondUser.id, reason: "filter: developer" },
    });
    t.clock.advance(1_000);
    const session = await gqlOk(t.url, world.backend, AuthenticateImpersonationTokenDocument, { token: byDeveloper.createImpersonationToken.token });
    t.clock.advance(1_000);
    await gqlOk(t.url, world.admin.credential, RevokeSessionDocument, { sessionId: session.authenticateImpersonationToken.session.id });
    const windowEnd = t.clock.now();
    t.clock.advance(60_000);
    await refusedTokenAttempt("filter: after the window");

    const all = await allEvents();
    const expectSame = async (filter: AuditEventFilter, predicate: (node: Node) => boolean) => {
      const expected = all.filter(predicate).map((node) => node.id);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(all.length);
      expect((await allEvents(world.projectId, filter)).map((node) => node.id)).toEqual(expected);
    };

    await expectSame({ actions: ["RevokeSession"] }, (node) => node.action === "RevokeSession");
    await expectSame(
      { actions: ["RevokeSession", "AuthenticateImpersonationToken"] },
      (node) => node.action === "RevokeSession" || node.action === "AuthenticateImpersonationToken",
    );
    await expectSame({ status: "FAILURE" }, (node) => node.status === "FAILURE");
    await expectSame({ status: "SUCCESS" }, (node) => node.status === "SUCCESS");
    await expectSame({ userId: secondUser.id }, (node) => node.userId === secondUser.id);
    await expectSame({ impersonatorId: world.developer.id }, (node) => node.impersonatorId === world.developer.id);
    await expectSame({ since: windowStart.toISOString() }, (node) => node.createdAt >= windowStart.toISOString());
    await expectSame({ until: windowEnd.toISOString() }, (node) => node.createdAt <= windowEnd.toISOString());
    await expectSame(
      { since: windowStart.toISOString(), until: windowEnd.toISOString(), actions: ["CreateImpersonationToken", "RevokeSession"], status: "SUCCESS" },
      (node) =>
        node.createdAt >= windowStart.toISOString() &&
        node.createdAt <= windowEnd.toISOString() &&
        (node.action === "CreateImpersonationToken" || node.action === "RevokeSession") &&
        node.status === "SUCCESS",
    );
    const windowed = await allEvents(world.projectId, { since: windowStart.toISOString(), until: windowEnd.toISOString() });
    expect(windowed.map((node) => node.action)).toEqual(["RevokeSession", "AuthenticateImpersonationToken", "CreateImpersonationToken"]);

    // An empty list does not narrow; a filter that matches nothing gives an empty page.
    expect((await allEvents(world.projectId, { actions: [] })).length).toBe(all.length);
    expect(await allEvents(world.projectId, { userId: "user-that-does-not-exist" })).toEqual([]);
  });

  it("refuses a bad page size, cursor or filter with BAD_USER_INPUT", async () => {
    const admin = world.admin.credential;
    const vars = (extra: Record<string, unknown>) => ({ projectId: world.projectId, ...extra });
    for (const first of [0, -1, 501, 100_000]) {
      expect(await gqlErrorCode(t.url, admin, AuditEventsDocument, vars({ first }))).toBe("BAD_USER_INPUT");
    }
    expect((await page(admin, { first: 500 })).edges.length).toBeGreaterThan(0);
    expect((await page(admin, { first: 1 })).edges).toHaveLength(1);
    for (const after of ["not-a-cursor", Buffer.from("[\"x\"]").toString("base64url"), Buffer.from("[-3]").toString("base64url"), ""]) {
      expect(await gqlErrorCode(t.url, admin, AuditEventsDocument, vars({ after }))).toBe("BAD_USER_INPUT");
    }
    const badFilters: AuditEventFilter[] = [
      { actions: ["DropTables"] },
      { since: "2026-02-01T00:00:00.000Z", until: "2026-01-01T00:00:00.000Z" },
      { userId: "u".repeat(65) },
    ];
    for (const filter of badFilters) {
      expect(await gqlErrorCode(t.url, admin, AuditEventsDocument, vars({ filter }))).toBe("BAD_USER_INPUT");
    }
    const badScalars = [{ since: "yesterday" }, { status: "MAYBE" }];
    for (const filter of badScalars) {
      const result = await gql(t.url, admin, AuditEventsDocument, vars({ filter }) as never);
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
  });

  it("is readable by every member role and the project's own backend, never by the frontend", async () => {
    for (const member of [world.admin, world.developer, world.supportManager, world.viewer]) {
      expect((await page(member.credential, { first: 1 })).edges).toHaveLength(1);
    }
    expect((await page(world.backend, { first: 1 })).edges).toHaveLength(1);
    expect((await page(world.other.backend, { projectId: world.other.projectId, first: 1 })).edges).toHaveLength(1);

    const ours = { projectId: world.projectId };
    expect(await gqlErrorCode(t.url, world.other.backend, AuditEventsDocument, ours)).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, world.frontend, AuditEventsDocument, ours)).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, world.other.frontend, AuditEventsDocument, { projectId: world.other.projectId })).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, anonymous, AuditEventsDocument, ours)).toBe("UNAUTHENTICATED");
    expect(await gqlErrorCode(t.url, asMember("mq_key_not-a-real-key"), AuditEventsDocument, ours)).toBe("UNAUTHENTICATED");
    expect(await gqlErrorCode(t.url, world.viewer.credential, AuditEventsDocument, { projectId: "project-unknown" })).toBe("NOT_FOUND");
  });

  it("keeps each project's events apart, and never shows another project's user", async () => {
    // A member names the other project's user in this project: refused, and recorded here.
    const code = await gqlErrorCode(t.url, world.supportManager.credential, CreateImpersonationTokenDocument, {
      input: { projectId: world.projectId, userId: world.other.userId, reason: "cross-project probe" },
    });
    expect(code).toBe("NOT_FOUND");
    const [probe] = (await page(world.backend, { first: 1 })).edges.map((edge) => edge.node);
    expect(probe).toMatchObject({ action: "CreateImpersonationToken", status: "FAILURE", errorCode: "NOT_FOUND", userId: world.other.userId, user: null });

    const others = await allEvents(world.other.projectId);
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((node) => node.projectId === world.other.projectId)).toBe(true);
    expect((await allEvents()).every((node) => node.projectId === world.projectId)).toBe(true);
  });
});

describe("auditEvents statement count", () => {
  it("costs the same number of SQL statements for a page of 10 and of 500, nested fields included", async () => {
    // A project of its own with 500 events, each naming a different user and a different
    // impersonator: resolving them one by one would cost a statement per event.
    const project = (await gqlOk(t.url, world.admin.credential, CreateProjectDocument, {
      input: { name: "Statement count", loginRedirectUrl: "https://count.example.com/auth" },
    })).createProject.project;
    // Setup shortcut (the API is exercised elsewhere): 500 users in one statement batch.
    const em = t.app.orm.em.fork();
    const users = Array.from({ length: 500 }, (_, i) => Object.assign(new User(), { projectId: project.id, email: `count-${i}@customer.com`, createdAt: t.clock.now() }));
    await em.insertMany(users);
    const userIds = users.map((user) => user.id);
    const admin = await em.findOneOrFail(TeamMember, { id: world.admin.id });
    const members = [world.admin, world.developer, world.supportManager];
    const caller: AuditCaller = { actor: { kind: "member", member: admin }, requestId: "request-statement-count", ipAddress: "127.0.0.1", userAgent: "vitest" };
    await databaseOf(t.app.orm.em).transaction(async (tx) => {
      for (let i = 0; i < 500; i++) {
        const impersonator = i % 2 === 0 ? members[i % members.length]! : { id: `member-gone-${i}`, email: `gone-${i}@example.com` };
        await t.app.services.audit.append(
          tx,
          caller,
          {
            action: "CreateImpersonationToken",
            projectId: project.id,
            userId: userIds[i],
            impersonatorId: impersonator.id,
            impersonatorEmail: impersonator.email,
            reason: `statement count ${i}`,
          },
          { status: i % 3 === 0 ? AuditStatus.FAILURE : AuditStatus.SUCCESS, errorCode: i % 3 === 0 ? "NOT_FOUND" : null },
        );
      }
    });

    const measure = async (first: number) => {
      statements = [];
      counting = true;
      try {
        const data = await gqlOk(t.url, world.admin.credential, AuditEventsDocument, { projectId: project.id, first });
        // The webhook outbox worker polls in the background; its statements are not this request's.
        return { edges: data.auditEvents.edges, statements: statements.filter((sql) => !sql.includes("webhook_")) };
      } finally {
        counting = false;
      }
    };
    const small = await measure(10);
    const large = await measure(500);

    expect(small.edges).toHaveLength(10);
    expect(large.edges).toHaveLength(500);
    expect(new Set(large.edges.map((edge) => edge.node.user?.id)).size).toBe(500);
    expect(large.edges.every((edge) => edge.node.user !== null)).toBe(true);
    expect(large.edges.filter((edge) => edge.node.impersonator !== null)).toHaveLength(250);
    expect(large.edges[0]!.node.reason).toBe("statement count 499");
    expect(large.edges[499]!.node.reason).toBe("statement count 0");

    expect(small.statements.length).toBeGreaterThan(0);
    expect(large.statements.length).toBe(small.statements.length);
    // Credential, project, the page, its users, its members: a handful, whatever the page size.
    expect(large.statements.length).toBeLessThanOrEqual(6);
  });
});
