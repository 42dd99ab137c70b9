import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEventAddedSubscription, AuditEventFilter } from "./__generated__/graphql.js";
import { AuditEventAddedDocument, AuditEventsDocument, CreateImpersonationTokenDocument, CreateProjectDocument, CreateTeamMemberDocument, UpdateTeamMemberDocument } from "./__generated__/graphql.js";
import { asMember, gqlErrorCode, gqlOk, type Credential, type GraphQLErrorShape } from "./harness/client.js";
import { createWorld, issueToken, type World } from "./harness/fixtures.js";
import { auditLiveConnections } from "./harness/audit-live.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { waitUntil, within, type LiveSubscription, type WsConnection } from "./harness/ws-client.js";
import { databaseOf } from "../src/db/database-of.js";
import { FixedBuffer, Repeater } from "@graphql-yoga/subscription";
import { maxCatchUpEvents, withCatchUp } from "../src/modules/audit/audit-catch-up.js";
import type { CommittedAuditEvents } from "../src/modules/audit/audit-event-sequencer.js";
import { AuditStatus } from "../src/modules/audit/audit-status.js";
import { TeamMember } from "../src/modules/members/team-member.entity.js";
import type { AuditEventMessage } from "../src/pubsub/topics.js";

/** auditEventAdded(afterSeq:): resuming the live audit feed without a gap or a repeat (SPEC §4.5). */

type Event = AuditEventAddedSubscription["auditEventAdded"];
type Subscription = LiveSubscription<AuditEventAddedSubscription>;

let t: TestApp;
let world: World;

beforeAll(async () => {
  t = await startTestApp();
  world = await createWorld(t);
});
afterAll(async () => t?.close());

const { connect, listeners } = auditLiveConnections(() => t);

function subscribe(credential: Credential, afterSeq: number | null, options: { projectId?: string; filter?: AuditEventFilter; connection?: WsConnection } = {}): Subscription {
  return (options.connection ?? connect(credential)).subscribe(AuditEventAddedDocument, {
    projectId: options.projectId ?? world.projectId,
    filter: options.filter,
    afterSeq,
  });
}

async function nextEvent(subscription: Subscription): Promise<Event> {
  const result = await subscription.next();
  expect(result.errors).toBeUndefined();
  return result.data!.auditEventAdded;
}

/** Events up to and including the one with `reason`. */
async function eventsUntil(subscription: Subscription, reason: string): Promise<Event[]> {
  const events: Event[] = [];
  for (;;) {
    const event = await nextEvent(subscription);
    events.push(event);
    if (event.reason === reason) return events;
  }
}

/** A refused createImpersonationToken by the VIEWER: one FAILURE event. */
async function marker(reason: string, projectId = world.projectId) {
  expect(await gqlErrorCode(t.url, world.viewer.credential, CreateImpersonationTokenDocument, { input: { projectId, userId: world.userId, reason } })).toBe("FORBIDDEN");
}

/** The project's newest event's seq, as a client learns it from its first page. */
async function newestSeq(projectId = world.projectId): Promise<number> {
  const page = await gqlOk(t.url, world.viewer.credential, AuditEventsDocument, { projectId, first: 1 });
  return page.auditEvents.edges[0]?.node.seq ?? 0;
}

/** How the server refused a subscription: its error, whether sent as a result or as the operation's end. */
async function refusal(subscription: Subscription): Promise<GraphQLErrorShape> {
  const end = await within(subscription.ended, 5_000, "the refusal");
  if (end.kind === "error") return end.errors[0]!;
  expect(end.kind).toBe("complete");
  expect(subscription.buffered).toHaveLength(1);
  expect(subscription.buffered[0]!.data ?? null).toBeNull();
  return subscription.buffered[0]!.errors![0]!;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe("auditEventAdded(afterSeq:)", () => {
  it("delivers the events missed since a page first, in seq order, then the live ones, none twice, with the filter applied", async () => {
    const start = await newestSeq();
    await marker("missed 1");
    await issueToken(t, world, world.supportManager, "missed success");
    await marker("missed 2");

    const everything = subscribe(world.viewer.credential, start);
    const failures = subscribe(world.backend, start, { filter: { status: "FAILURE" } });
    const caughtUp = await eventsUntil(everything, "missed 2");
    expect(caughtUp.map((event) => [event.seq, event.reason, event.status])).toEqual([
      [start + 1, "missed 1", "FAILURE"],
      [start + 2, "missed success", "SUCCESS"],
      [start + 3, "missed 2", "FAILURE"],
    ]);
    expect(caughtUp[1]).toMatchObject({ action: "CreateImpersonationToken", user: { id: world.userId }, impersonator: { id: world.supportManager.id } });

    await marker("live 1");
    await marker("live 2");
    expect((await eventsUntil(everything, "live 2")).map((event) => [event.seq, event.reason])).toEqual([
      [start + 4, "live 1"],
      [start + 5, "live 2"],
    ]);
    expect((await eventsUntil(failures, "live 2")).map((event) => [event.seq, event.reason])).toEqual([
      [start + 1, "missed 1"],
      [start + 3, "missed 2"],
      [start + 4, "live 1"],
      [start + 5, "live 2"],
    ]);
    for (const subscription of [everything, failures]) {
      expect(subscription.buffered).toEqual([]);
      expect(subscription.isEnded()).toBe(false);
    }
  });

  it("with afterSeq at the newest event, delivers only what comes next", async () => {
    const subscription = subscribe(world.admin.credential, await newestSeq());
    await marker("only this");
    const event = await nextEvent(subscription);
    expect(event.reason).toBe("only this");
    expect(subscription.buffered).toEqual([]);
  });

  it("resumes after a reconnect with exactly the events committed while it was away", async () => {
    const dropped = connect(world.viewer.credential);
    const first = subscribe(world.viewer.credential, await newestSeq(), { connection: dropped });
    await marker("seen before the drop");
    const lastSeen = (await nextEvent(first)).seq;
    await dropped.close();
    await waitUntil(() => listeners() === 0, "the dropped subscription is gone");

    for (let i = 1; i <= 5; i++) await marker(`while away ${i}`);
    const resumed = subscribe(world.viewer.credential, lastSeen);
    const missed = await eventsUntil(resumed, "while away 5");
    expect(missed.map((event) => [event.seq, event.reason])).toEqual(range(1, 5).map((i) => [lastSeen + i, `while away ${i}`]));
    await marker("after the resume");
    expect(await nextEvent(resumed)).toMatchObject({ seq: lastSeen + 6, reason: "after the resume" });
    expect(resumed.buffered).toEqual([]);
  });

  it("delivers every seq exactly once and in order while 20 writes commit during the catch-up", async () => {
    for (let round = 0; round < 3; round++) {
      const start = await newestSeq();
      await marker(`round ${round} before`);
      const writes = Promise.all(range(1, 20).map((i) => marker(`round ${round} concurrent ${i}`)));
      const credential = round % 2 === 0 ? world.viewer.credential : world.backend;
      const connection = connect(credential);
      const subscription = subscribe(credential, start, { connection });
      await writes;
      await marker(`round ${round} end`);
      const events = await eventsUntil(subscription, `round ${round} end`);
      expect(events.map((event) => event.seq)).toEqual(range(start + 1, start + 22));
      expect(new Set(events.map((event) => event.id)).size).toBe(22);
      expect(subscription.buffered).toEqual([]);
      await connection.close();
      await waitUntil(() => listeners() === 0, "the round's subscription is gone");
    }
  });

  it("refuses an afterSeq that is negative, not an integer, or after the newest event with BAD_USER_INPUT", async () => {
    const newest = await newestSeq();
    for (const afterSeq of [-1, 1.5, newest + 1]) {
      const error = await refusal(subscribe(world.admin.credential, afterSeq));
      expect(error.extensions?.code, String(afterSeq)).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(error)).not.toMatch(/stack|select |at .*\.ts/i);
    }
    expect(listeners()).toBe(0);
  });

  it(`catches up at most ${maxCatchUpEvents} events; further back it refuses, telling the client to page with auditEvents`, { timeout: 120_000 }, async () => {
    const project = (await gqlOk(t.url, world.admin.credential, CreateProjectDocument, {
      input: { name: "Backlog", loginRedirectUrl: "https://backlog.example.com/auth" },
    })).createProject.project.id;
    const before = await newestSeq(project);
    const em = t.app.orm.em.fork();
    const admin = await em.findOneOrFail(TeamMember, { id: world.admin.id });
    await databaseOf(t.app.orm.em).transaction(async (tx) => {
      for (let i = 0; i < maxCatchUpEvents + 1; i++) {
        await t.app.services.audit.append(
          tx,
          { actor: { kind: "member", member: admin }, requestId: "request-backlog", ipAddress: null, userAgent: null },
          { action: "RevokeSession", projectId: project, details: { backlog: i } },
          { status: AuditStatus.SUCCESS },
        );
      }
    });
    const newest = await newestSeq(project);
    expect(newest).toBe(before + maxCatchUpEvents + 1);

    const tooFar = await refusal(subscribe(world.viewer.credential, newest - maxCatchUpEvents - 1, { projectId: project }));
    expect(tooFar.extensions?.code).toBe("BAD_USER_INPUT");
    expect(tooFar.message).toMatch(/auditEvents/);
    expect(listeners()).toBe(0);

    const furthest = subscribe(world.viewer.credential, newest - maxCatchUpEvents, { projectId: project });
    await waitUntil(() => listeners() === 1 || furthest.isEnded(), "the subscription listens");
    await marker("after the backlog", project);
    const events = await eventsUntil(furthest, "after the backlog");
    expect(events.map((event) => event.seq)).toEqual(range(newest - maxCatchUpEvents + 1, newest + 1));
    expect(JSON.parse(events[0]!.details!)).toEqual({ backlog: 1 });
  });

  it("still refuses another project's credentials and a disabled member, whatever afterSeq", async () => {
    const created = await gqlOk(t.url, world.admin.credential, CreateTeamMemberDocument, { input: { email: "resume-viewer@example.com", role: "VIEWER", name: "Resume" } });
    const viewer = asMember(created.createTeamMember.apiKey);
    await gqlOk(t.url, world.admin.credential, UpdateTeamMemberDocument, { id: created.createTeamMember.member.id, input: { disabled: true } });
    const cases: Array<[Credential, string]> = [
      [world.other.backend, "FORBIDDEN"],
      [world.frontend, "FORBIDDEN"],
      [viewer, "UNAUTHENTICATED"],
    ];
    for (const [credential, code] of cases) {
      // -1 is refused for itself, after the caller: the caller is refused before afterSeq is looked at.
      for (const afterSeq of [-1, await newestSeq()]) {
        const error = await refusal(subscribe(credential, afterSeq));
        expect(error.extensions?.code, `${code} with afterSeq ${afterSeq}`).toBe(code);
      }
    }
    expect(listeners()).toBe(0);
  });
});

describe("withCatchUp", () => {
  /** A project's log in memory, and a live stream the test pushes to. */
  function fakes() {
    const log: AuditEventMessage[] = [];
    const commit = (seq: number) => log.push({ seq, id: `event-${seq}` } as AuditEventMessage);
    const reads: Array<[number, number | null]> = [];
    const store: CommittedAuditEvents = {
      lastSeq: async () => log.length,
      range: async (_projectId, from, to, limit) => {
        reads.push([from, to]);
        return log.filter((message) => message.seq >= from && (to === null || message.seq <= to)).slice(0, limit);
      },
    };
    let push!: (message: AuditEventMessage) => Promise<unknown>;
    let started = false;
    const live = new Repeater<AuditEventMessage>((p) => {
      started = true;
      push = p;
    }, new FixedBuffer(100))[Symbol.asyncIterator]();
    return { log, commit, reads, store, live, push: (seq: number) => push({ seq, id: `event-${seq}` } as AuditEventMessage), isStarted: () => started };
  }

  it("listens before it reads, drops what it read already, and reads a hole before the live event after it", async () => {
    const { commit, reads, store, live, push, isStarted } = fakes();
    for (let seq = 1; seq <= 5; seq++) commit(seq);
    const events = withCatchUp(live, store, "project", 2);
    const seqs: number[] = [];
    seqs.push((await events.next()).value!.seq);
    expect(isStarted()).toBe(true);
    expect(reads).toEqual([[3, null]]);
    // Live messages of events the read had, then one that leaves a hole (6 and 7 committed, their messages never came here).
    await push(4);
    await push(5);
    for (const seq of [6, 7, 8]) commit(seq);
    await push(8);
    await push(9);
    commit(9);
    for (let i = 0; i < 6; i++) seqs.push((await events.next()).value!.seq);
    expect(seqs).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(reads).toEqual([[3, null], [6, 7]]);
    await events.return!();
    expect(await live.next()).toEqual({ value: undefined, done: true });
  });
});
