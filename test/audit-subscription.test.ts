import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEventAddedSubscription, AuditEventFilter } from "./__generated__/graphql.js";
import {
  AuditEventAddedDocument,
  AuditEventReasonsDocument,
  AuditEventsDocument,
  AuthenticateImpersonationTokenDocument,
  CreateImpersonationTokenDocument,
  CreateProjectDocument,
  CreateTeamMemberDocument,
  UpdateTeamMemberDocument,
} from "./__generated__/graphql.js";
import { anonymous, asMember, gql, gqlErrorCode, gqlOk, type Credential } from "./harness/client.js";
import { createWorld, issueToken, type World } from "./harness/fixtures.js";
import { auditLiveConnections } from "./harness/audit-live.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { waitUntil, within, type LiveSubscription, type WsConnection } from "./harness/ws-client.js";
import { databaseOf } from "../src/db/database-of.js";
import { AuditStatus } from "../src/modules/audit/audit-status.js";
import { TeamMember } from "../src/modules/members/team-member.entity.js";
import { createEventTargetPubSub, SubscriberTooSlowError } from "../src/pubsub/pubsub.js";
import { Topic } from "../src/pubsub/topics.js";

type Event = AuditEventAddedSubscription["auditEventAdded"];

let t: TestApp;
let world: World;

beforeAll(async () => {
  t = await startTestApp();
  world = await createWorld(t);
});
afterAll(async () => t?.close());

const { connect, listeners } = auditLiveConnections(() => t);

function subscribe(credential: Credential, projectId = world.projectId, filter?: AuditEventFilter): LiveSubscription<AuditEventAddedSubscription> {
  return connect(credential).subscribe(AuditEventAddedDocument, { projectId, filter });
}

/** Subscribes and waits until the server listens for it (there is no acknowledgement in the protocol). */
async function liveSubscription(credential: Credential, projectId = world.projectId, filter?: AuditEventFilter) {
  const before = listeners();
  const subscription = subscribe(credential, projectId, filter);
  await waitUntil(() => listeners() > before || subscription.isEnded(), "the subscription is live");
  expect(subscription.isEnded()).toBe(false);
  return subscription;
}

async function nextEvent(subscription: LiveSubscription<AuditEventAddedSubscription>): Promise<Event> {
  const result = await subscription.next();
  expect(result.errors).toBeUndefined();
  return result.data!.auditEventAdded;
}

/** A refused createImpersonationToken by the VIEWER: one FAILURE event, used as a marker. */
async function marker(reason: string, projectId = world.projectId) {
  const code = await gqlErrorCode(t.url, world.viewer.credential, CreateImpersonationTokenDocument, {
    input: { projectId, userId: world.userId, reason },
  });
  expect(code).toBe("FORBIDDEN");
}

describe("auditEventAdded: authorization when the subscription starts", () => {
  it("refuses with the contract code at subscribe time and listens for nothing", async () => {
    const cases: Array<[Credential, string, string, AuditEventFilter?]> = [
      [anonymous, world.projectId, "UNAUTHENTICATED"],
      [asMember("mq_key_not-a-real-key"), world.projectId, "UNAUTHENTICATED"],
      [{ kind: "backend", projectId: world.projectId, secret: "wrong" }, world.projectId, "UNAUTHENTICATED"],
      [world.frontend, world.projectId, "FORBIDDEN"],
      [world.other.backend, world.projectId, "FORBIDDEN"],
      [world.viewer.credential, "project-unknown", "NOT_FOUND"],
      [world.viewer.credential, world.projectId, "BAD_USER_INPUT", { actions: ["NotAnAction"] }],
    ];
    for (const [credential, projectId, code, filter] of cases) {
      const subscription = subscribe(credential, projectId, filter);
      const first = await subscription.next();
      expect(first.data ?? null, `${code} for ${JSON.stringify(credential)}`).toBeNull();
      expect(first.errors?.[0]?.extensions?.code).toBe(code);
      expect(JSON.stringify(first.errors)).not.toMatch(/stack|select |at .*\.ts/i);
      expect(await subscription.ended).toEqual({ kind: "complete" });
    }
    expect(listeners()).toBe(0);
  });

  it("refuses a NUL character in the variables with BAD_USER_INPUT, listening for nothing", async () => {
    const refused = subscribe(world.admin.credential, "a\u0000b");
    const end = await within(refused.ended, 5_000, "the refusal");
    expect(end.kind).toBe("error");
    if (end.kind !== "error") return;
    expect(end.errors[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(listeners()).toBe(0);
  });

  it("accepts every member role and the project's own backend (Basic in connectionParams)", async () => {
    for (const credential of [world.admin.credential, world.developer.credential, world.supportManager.credential, world.viewer.credential, world.backend]) {
      await liveSubscription(credential);
    }
    await liveSubscription(world.other.backend, world.other.projectId);
    expect(listeners()).toBe(6);
  });
});

describe("auditEventAdded: delivery", () => {
  it("delivers each committed event once to every matching subscriber, with nested fields", async () => {
    const viewer = await liveSubscription(world.viewer.credential);
    const backend = await liveSubscription(world.backend);
    const successfulExchanges = await liveSubscription(world.developer.credential, world.projectId, {
      actions: ["AuthenticateImpersonationToken"],
      status: "SUCCESS",
    });
    const byDeveloper = await liveSubscription(world.admin.credential, world.projectId, { impersonatorId: world.developer.id });
    const otherProject = await liveSubscription(world.other.backend, world.other.projectId);

    const { token } = await issueToken(t, world, world.supportManager, "delivery test");
    const exchanged = await gqlOk(t.url, world.backend, AuthenticateImpersonationTokenDocument, { token });

    for (const subscription of [viewer, backend]) {
      const created = await nextEvent(subscription);
      const authenticated = await nextEvent(subscription);
      expect(created).toMatchObject({ action: "CreateImpersonationToken", status: "SUCCESS", reason: "delivery test", projectId: world.projectId });
      expect(authenticated).toMatchObject({
        action: "AuthenticateImpersonationToken",
        eventType: "direct.user.impersonate",
        status: "SUCCESS",
        requestId: exchanged.authenticateImpersonationToken.requestId,
        sessionId: exchanged.authenticateImpersonationToken.session.id,
        user: { id: world.userId, email: "jane@customer.com" },
        impersonator: { id: world.supportManager.id, email: world.supportManager.email, role: "SUPPORT_MANAGER" },
      });
    }
    const onlyExchange = await nextEvent(successfulExchanges);
    expect(onlyExchange).toMatchObject({ action: "AuthenticateImpersonationToken", status: "SUCCESS" });

    // Markers: whatever a subscriber receives next proves what it did not receive before.
    await gqlOk(t.url, world.developer.credential, CreateImpersonationTokenDocument, {
      input: { projectId: world.projectId, userId: world.userId, reason: "by the developer" },
    });
    expect(await nextEvent(byDeveloper)).toMatchObject({ action: "CreateImpersonationToken", impersonatorId: world.developer.id, reason: "by the developer" });
    await marker("other project marker", world.other.projectId);
    expect(await nextEvent(otherProject)).toMatchObject({ projectId: world.other.projectId, reason: "other project marker" });

    const { token: second } = await issueToken(t, world, world.developer, "second exchange");
    await gqlOk(t.url, world.backend, AuthenticateImpersonationTokenDocument, { token: second });
    expect(await nextEvent(successfulExchanges)).toMatchObject({ action: "AuthenticateImpersonationToken", impersonatorId: world.developer.id });

    expect(await nextEvent(byDeveloper)).toMatchObject({ action: "CreateImpersonationToken", reason: "second exchange" });
    expect(await nextEvent(byDeveloper)).toMatchObject({ action: "AuthenticateImpersonationToken", reason: "second exchange" });

    await marker("end of delivery test");
    for (const subscription of [viewer, backend]) {
      const reasons: Array<string | null> = [];
      for (;;) {
        const event = await nextEvent(subscription);
        reasons.push(event.reason);
        if (event.reason === "end of delivery test") break;
      }
      expect(reasons).toEqual(["by the developer", "second exchange", "second exchange", "end of delivery test"]);
    }
    for (const subscription of [viewer, backend, successfulExchanges, byDeveloper, otherProject]) {
      expect(subscription.buffered).toEqual([]);
      expect(subscription.isEnded()).toBe(false);
    }
  });

  it("gives each subscriber its own selection when several share one event (one execution per document and variables)", async () => {
    const narrow = AuditEventReasonsDocument;
    const full = [await liveSubscription(world.viewer.credential), await liveSubscription(world.admin.credential)];
    const before = listeners();
    const slim = connect(world.backend).subscribe(narrow, { projectId: world.projectId });
    await waitUntil(() => listeners() > before, "the narrow subscription is live");

    await marker("shared execution");
    for (const subscription of full) {
      expect(await nextEvent(subscription)).toMatchObject({ reason: "shared execution", action: "CreateImpersonationToken", status: "FAILURE" });
    }
    const result = await slim.next();
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ auditEventAdded: { reason: "shared execution" } });
  });

  it("publishes only what committed: a failed exchange announces its FAILURE event and nothing else", async () => {
    const subscription = await liveSubscription(world.admin.credential);

    const { token: expired } = await issueToken(t, world, world.supportManager, "will expire");
    expect(await nextEvent(subscription)).toMatchObject({ action: "CreateImpersonationToken", status: "SUCCESS", reason: "will expire" });
    t.clock.advanceSeconds(301);
    expect(await gqlErrorCode(t.url, world.backend, AuthenticateImpersonationTokenDocument, { token: expired })).toBe("IMPERSONATION_TOKEN_EXPIRED");
    const failed = await nextEvent(subscription);
    expect(failed).toMatchObject({ action: "AuthenticateImpersonationToken", status: "FAILURE", errorCode: "IMPERSONATION_TOKEN_EXPIRED", eventType: null });

    // Announced only after commit: an event a subscriber sees is already in the log.
    const page = await gqlOk(t.url, world.viewer.credential, AuditEventsDocument, { projectId: world.projectId, first: 1 });
    expect(page.auditEvents.edges[0]!.node.id).toBe(failed.id);

    // Two concurrent exchanges of one token: one wins; the loser's work rolls back and only its
    // FAILURE event is announced.
    const { token } = await issueToken(t, world, world.supportManager, "raced");
    expect(await nextEvent(subscription)).toMatchObject({ action: "CreateImpersonationToken", reason: "raced" });
    const results = await Promise.all([0, 1].map(() => gql(t.url, world.backend, AuthenticateImpersonationTokenDocument, { token })));
    expect(results.filter((result) => result.data?.authenticateImpersonationToken).length).toBe(1);
    expect(results.map((result) => result.errors?.[0]?.extensions?.code).filter(Boolean)).toEqual(["IMPERSONATION_TOKEN_ALREADY_USED"]);

    await marker("after the race");
    const announced: Event[] = [];
    for (;;) {
      const event = await nextEvent(subscription);
      if (event.reason === "after the race") break;
      announced.push(event);
    }
    expect(announced.map((event) => `${event.action}:${event.status}:${event.errorCode ?? ""}`).sort()).toEqual([
      "AuthenticateImpersonationToken:FAILURE:IMPERSONATION_TOKEN_ALREADY_USED",
      "AuthenticateImpersonationToken:SUCCESS:",
    ]);
  });

  it("delivers a burst larger than the pub/sub queue to a subscriber, in order, without harming the server", { timeout: 90_000 }, async () => {
    const project = (await gqlOk(t.url, world.admin.credential, CreateProjectDocument, {
      input: { name: "Burst", loginRedirectUrl: "https://burst.example.com/auth" },
    })).createProject;
    const subscription = await liveSubscription(world.viewer.credential, project.project.id);

    // 1100 events committed in one transaction are announced back to back, far faster than a
    // WebSocket drains them (graphql-yoga's unbuffered pub/sub threw past 1024 pending pushes, inside
    // the event target's dispatch: an uncaught exception that took the whole server down).
    const em = t.app.orm.em.fork();
    const admin = await em.findOneOrFail(TeamMember, { id: world.admin.id });
    await databaseOf(t.app.orm.em).transaction(async (tx) => {
      for (let i = 0; i < 1100; i++) {
        await t.app.services.audit.append(
          tx,
          { actor: { kind: "member", member: admin }, requestId: "request-burst", ipAddress: null, userAgent: null },
          { action: "RevokeSession", projectId: project.project.id, details: { burst: i } },
          { status: AuditStatus.SUCCESS },
        );
      }
    });
    for (let i = 0; i < 1100; i++) {
      const event = await nextEvent(subscription);
      expect(event.projectId).toBe(project.project.id);
      expect(JSON.parse(event.details!)).toEqual({ burst: i });
    }
    const page = await gqlOk(t.url, world.viewer.credential, AuditEventsDocument, { projectId: project.project.id, first: 1 });
    expect(page.auditEvents.edges).toHaveLength(1);
    expect(subscription.isEnded()).toBe(false);
  });
});

describe("auditEventAdded: lifetime", () => {
  it("leaves no listener behind when subscribers unsubscribe, disconnect or drop", async () => {
    expect(listeners()).toBe(0);
    const unsubscribed: LiveSubscription<AuditEventAddedSubscription>[] = [];
    const politely: WsConnection[] = [];
    const abruptly: WsConnection[] = [];
    for (let i = 0; i < 45; i++) {
      const connection = connect(i % 2 === 0 ? world.viewer.credential : world.backend);
      const subscription = connection.subscribe(AuditEventAddedDocument, { projectId: world.projectId, filter: i % 3 === 0 ? { status: "FAILURE" } : null });
      if (i % 3 === 0) unsubscribed.push(subscription);
      else if (i % 3 === 1) politely.push(connection);
      else abruptly.push(connection);
    }
    await waitUntil(() => listeners() === 45, "45 subscriptions are live");

    // An event reaches them all while they are live.
    await marker("before the drop");

    for (const subscription of unsubscribed) subscription.unsubscribe();
    await Promise.all(politely.map((connection) => connection.close()));
    for (const connection of abruptly) connection.terminate();
    await waitUntil(() => listeners() === 0, "every listener is removed");

    // Nothing is delivered into the void, and the server carries on.
    await marker("after the drop");
    const survivor = await liveSubscription(world.viewer.credential);
    await marker("for the survivor");
    expect(await nextEvent(survivor)).toMatchObject({ reason: "for the survivor" });
    expect(listeners()).toBe(1);
  });

  it("ends a live subscription with UNAUTHENTICATED once its member is disabled, and delivers it nothing more", async () => {
    const created = await gqlOk(t.url, world.admin.credential, CreateTeamMemberDocument, {
      input: { email: "auditor@example.com", role: "VIEWER", name: "Auditor" },
    });
    const auditor = asMember(created.createTeamMember.apiKey);
    const watched = await liveSubscription(auditor);
    const control = await liveSubscription(world.developer.credential);

    await marker("while enabled");
    expect(await nextEvent(watched)).toMatchObject({ reason: "while enabled" });
    expect(await nextEvent(control)).toMatchObject({ reason: "while enabled" });

    await gqlOk(t.url, world.admin.credential, UpdateTeamMemberDocument, { id: created.createTeamMember.member.id, input: { disabled: true } });
    await marker("after disabling");

    expect(await nextEvent(control)).toMatchObject({ reason: "after disabling" });
    const end = await within(watched.ended, 5_000, "the disabled member's subscription ends");
    expect(watched.buffered).toEqual([]);
    expect(end.kind).toBe("error");
    if (end.kind !== "error") return;
    expect(end.errors[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(watched.buffered).toEqual([]);
    await waitUntil(() => listeners() === 1, "only the control subscription listens");

    // Re-enabling does not revive the ended subscription; a new one works.
    await gqlOk(t.url, world.admin.credential, UpdateTeamMemberDocument, { id: created.createTeamMember.member.id, input: { disabled: false } });
    const again = await liveSubscription(auditor);
    await marker("re-enabled");
    expect(await nextEvent(again)).toMatchObject({ reason: "re-enabled" });
    expect(watched.buffered).toEqual([]);
  });
});

describe("the in-process pub/sub", () => {
  it("cuts off only a subscriber that falls too far behind, with an error, and removes its listener", async () => {
    const pubsub = createEventTargetPubSub(new EventTarget(), { bufferSize: 5 });
    const slow = pubsub.subscribe(Topic.AuditEventAdded)[Symbol.asyncIterator]();
    const keeping = pubsub.subscribe(Topic.AuditEventAdded)[Symbol.asyncIterator]();
    const firstSlow = slow.next();
    const received: number[] = [];
    const reading = (async () => {
      for (;;) {
        const next = await keeping.next();
        if (next.done) return;
        received.push((next.value as unknown as { seq: number }).seq);
      }
    })();
    await waitUntil(() => pubsub.listenerCount!(Topic.AuditEventAdded) === 2, "both listen");

    const message = (seq: number) => ({ seq }) as never;
    for (let seq = 1; seq <= 1100; seq++) {
      pubsub.publish(Topic.AuditEventAdded, message(seq));
      if (seq % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(((await firstSlow).value as unknown as { seq: number }).seq).toBe(1);
    await expect(async () => {
      for (;;) if ((await slow.next()).done) return;
    }).rejects.toBeInstanceOf(SubscriberTooSlowError);
    await waitUntil(() => received.length === 1100, "the keeping subscriber has every message");
    expect(received).toEqual(Array.from({ length: 1100 }, (_, i) => i + 1));
    expect(pubsub.listenerCount!(Topic.AuditEventAdded)).toBe(1);
    await keeping.return?.();
    await reading;
    await waitUntil(() => pubsub.listenerCount!() === 0, "no listener is left");
  });
});
