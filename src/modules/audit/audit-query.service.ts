import type { ActorRecheck } from "../../auth/actor-recheck.js";
import { decide, Permission } from "../../auth/permissions.js";
import type { Loaders, RequestContext } from "../../context.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { isPlausibleId } from "../../graphql/validation.js";
import type { AppPubSub } from "../../pubsub/pubsub.js";
import type { AuditEventMessage } from "../../pubsub/topics.js";
import type { Database } from "../../db/database.js";
import { createTeamMemberLoader } from "../members/team-member.loader.js";
import { TeamRole } from "../members/team-role.js";
import type { ProjectService } from "../projects/project.service.js";
import { createUserLoader } from "../users/user.loader.js";
import type { AuditEvent } from "./audit-event.entity.js";
import { auditEventRepository, type AuditEventConditions } from "./audit-event.repository.js";
import { AuditEventSequencer, type CommittedAuditEvents } from "./audit-event-sequencer.js";
import { maxCatchUpEvents, withCatchUp } from "./audit-catch-up.js";
import { committedAuditEvents } from "./committed-audit-events.js";
import { fromAuditEventMessage } from "./audit-message.js";
import { AuditAction, AuditStatus } from "./audit-status.js";
import type { AuditEventFilter } from "./audit.types.js";

/** A validated AuditEventFilter; null fields do not narrow. */
export type NormalizedAuditFilter = AuditEventConditions;

const knownActions: ReadonlySet<string> = new Set(Object.values(AuditAction));

function bad(message: string): AppError {
  return new AppError(ErrorCode.BAD_USER_INPUT, message);
}

function optionalId(value: string | null | undefined, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (!isPlausibleId(value)) throw bad(`"filter.${field}" is not a valid id.`);
  return value;
}

/** Years 1 to 9999: what both databases can compare against (PostgreSQL has no year 0). */
const earliestInstant = -62135596800000; // 0001-01-01T00:00:00.000Z
const latestInstant = 253402300799999; // 9999-12-31T23:59:59.999Z

function optionalInstant(value: Date | null | undefined, field: string): Date | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw bad(`"filter.${field}" is not a valid instant.`);
  if (value.getTime() < earliestInstant || value.getTime() > latestInstant) {
    throw bad(`"filter.${field}" must be between the years 1 and 9999.`);
  }
  return value;
}

/** Validates a filter once, for the query and the subscription alike (SPEC §4.7 AuditEventFilter). */
export function normalizeAuditFilter(filter: AuditEventFilter | null | undefined): NormalizedAuditFilter {
  let actions: Set<string> | null = null;
  if (filter?.actions && filter.actions.length > 0) {
    const unknown = filter.actions.filter((action) => !knownActions.has(action));
    if (unknown.length > 0) {
      throw bad(`"filter.actions" may contain only ${[...knownActions].join(", ")}.`);
    }
    actions = new Set(filter.actions);
  }
  const status = filter?.status ?? null;
  if (status !== null && status !== AuditStatus.SUCCESS && status !== AuditStatus.FAILURE) throw bad(`"filter.status" is not valid.`);
  const since = optionalInstant(filter?.since, "since");
  const until = optionalInstant(filter?.until, "until");
  if (since && until && since.getTime() > until.getTime()) throw bad(`"filter.since" must not be after "filter.until".`);
  return {
    actions,
    status,
    userId: optionalId(filter?.userId, "userId"),
    impersonatorId: optionalId(filter?.impersonatorId, "impersonatorId"),
    since,
    until,
  };
}

/** The same filter as the SQL of `list`, for events arriving one by one. */
export function matchesAuditFilter(
  filter: NormalizedAuditFilter,
  event: Pick<AuditEventMessage, "action" | "status" | "userId" | "impersonatorId"> & { createdAt: Date },
): boolean {
  if (filter.actions && !filter.actions.has(event.action)) return false;
  if (filter.status && event.status !== filter.status) return false;
  if (filter.userId && event.userId !== filter.userId) return false;
  if (filter.impersonatorId && event.impersonatorId !== filter.impersonatorId) return false;
  if (filter.since && event.createdAt.getTime() < filter.since.getTime()) return false;
  if (filter.until && event.createdAt.getTime() > filter.until.getTime()) return false;
  return true;
}

const eventsByMessage = new WeakMap<AuditEventMessage, AuditEvent>();

/** One AuditEvent per published message, shared by every subscriber that receives it. */
function eventOf(message: AuditEventMessage): AuditEvent {
  let event = eventsByMessage.get(message);
  if (!event) {
    event = fromAuditEventMessage(message);
    eventsByMessage.set(message, event);
  }
  return event;
}

/** The read side of the audit log: pages of it, and its live stream. */
export class AuditQueryService {
  /** Every subscriber on this instance receives its project's events through this, in `seq` order. */
  private readonly sequencer: AuditEventSequencer;
  private readonly committed: CommittedAuditEvents;

  constructor(
    private readonly db: Database,
    private readonly projects: ProjectService,
    pubsub: AppPubSub,
    private readonly recheck: ActorRecheck,
  ) {
    this.committed = committedAuditEvents(db);
    this.sequencer = new AuditEventSequencer(pubsub, this.committed);
  }

  /** Live subscribers on this instance (tests and metrics prove that one that went away left nothing behind). */
  listenerCount(): number {
    return this.sequencer.listenerCount();
  }

  /** Stops listening (the server is shutting down). */
  close(): void {
    this.sequencer.close();
  }

  private readonly eventLoaders = new Map<string, Loaders>();

  /**
   * A project's events, newest first. Cursors carry the event's per-project `seq`, which only grows:
   * events committed while a client pages land before its first page and never shift later pages.
   */
  async list(
    ctx: RequestContext,
    args: { projectId?: string | null; filter?: AuditEventFilter | null; first?: number | null; after?: string | null },
  ): Promise<Connection<AuditEvent>> {
    const chain = await auditChainFor(this.db, this.projects, ctx, args.projectId);
    const limit = pageSize(args.first);
    const filter = normalizeAuditFilter(args.filter);
    const afterSeq = decodeSeqCursor(args.after);
    const events = await auditEventRepository.page(this.db.sql, chain, filter, afterSeq, limit + 1);
    return toConnection(events, limit, (event) => encodeCursor([event.seq]));
  }

  /**
   * The live stream of a project's committed events matching `filter`. The caller and the project
   * are checked here, when the subscription starts, so that a refusal reaches the client at once
   * with its code. Before each event is delivered the credential is checked again (shared by all
   * subscriptions of that credential, see ActorRecheck): a subscription of a member who has been
   * disabled since ends with UNAUTHENTICATED instead of delivering. Ending or dropping the subscription removes its pub/sub listener.
   * Events arrive in the project's commit order (`seq`), with no gap, from when the subscription
   * starts listening (see AuditEventSequencer). With `afterSeq`, the committed events after it come
   * first (see withCatchUp), at most `maxCatchUpEvents` behind the newest; without it, nothing is
   * added to the path of each live event.
   */
  async subscribe(
    ctx: RequestContext,
    args: { projectId: string; filter?: AuditEventFilter | null; afterSeq?: number | null },
  ): Promise<AsyncIterable<AuditEvent>> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, args.projectId);
    const filter = normalizeAuditFilter(args.filter);
    const afterSeq = await this.catchUpStart(project.id, args.afterSeq);
    const live = this.sequencer.subscribe(project.id)[Symbol.asyncIterator]();
    const messages = afterSeq === null ? live : withCatchUp(live, this.committed, project.id, afterSeq);
    // Pulled one event at a time by graphql-ws; the sequencer's bounded buffer holds what has not
    // been pulled yet. No second queue: each delivery costs as few promises as it can.
    const events: AsyncIterableIterator<AuditEvent> = {
      next: async (): Promise<IteratorResult<AuditEvent>> => {
        for (;;) {
          const next = (await messages.next()) as IteratorResult<AuditEventMessage>;
          if (next.done) return { value: undefined, done: true };
          const event = eventOf(next.value);
          if (!matchesAuditFilter(filter, event)) continue;
          try {
            await this.prepareDelivery(ctx, event.id);
          } catch (error) {
            // The subscription ends here (its credential no longer holds): stop listening at once.
            await messages.return?.();
            throw error;
          }
          return { value: event, done: false };
        }
      },
      return: async (): Promise<IteratorResult<AuditEvent>> => {
        await messages.return?.();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return events;
      },
    };
    return events;
  }

  /** Validates `afterSeq` against the project's log: null when the subscription does not catch up. */
  private async catchUpStart(projectId: string, afterSeq: number | null | undefined): Promise<number | null> {
    if (afterSeq === null || afterSeq === undefined) return null;
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw bad(`"afterSeq" must be an integer, 0 or more.`);
    const newest = await this.committed.lastSeq(projectId);
    if (afterSeq > newest) throw bad(`"afterSeq" is after the project's newest event (${newest}).`);
    if (newest - afterSeq > maxCatchUpEvents) {
      throw bad(
        `"afterSeq" is ${newest - afterSeq} events behind the project's newest; a subscription catches up at most ${maxCatchUpEvents}. ` +
          "Page through auditEvents first, then subscribe with the newest seq you have.",
      );
    }
    return afterSeq;
  }

  /**
   * Re-checks the subscriber's credential (shared across subscriptions, see ActorRecheck) and gives
   * the event loaders of its own: a long-lived subscription must neither serve users cached hours ago
   * nor grow one loader cache forever. The loaders are shared by every subscriber receiving the same
   * event, so a fan-out to a thousand subscribers loads each nested user once. Events of one
   * subscription are delivered one at a time, so swapping its context's loaders is safe.
   */
  private async prepareDelivery(ctx: RequestContext, eventId: string): Promise<void> {
    const current = await this.recheck.current(ctx.actor);
    const decision = decide(current, Permission.ReadAudit);
    if (decision === "unauthenticated") throw new AppError(ErrorCode.UNAUTHENTICATED);
    if (decision === "forbidden") throw new AppError(ErrorCode.FORBIDDEN);
    ctx.actor = current;
    ctx.loaders = this.eventLoaders.get(eventId) ?? this.loadersFor(eventId);
  }

  private loadersFor(eventId: string): Loaders {
    const loaders = { user: createUserLoader(this.db), member: createTeamMemberLoader(this.db) };
    this.eventLoaders.set(eventId, loaders);
    // Keep only the latest few events' loaders: enough for every subscriber to take its turn.
    if (this.eventLoaders.size > 64) this.eventLoaders.delete(this.eventLoaders.keys().next().value!);
    return loaders;
  }
}

/** The chain of the install-wide log: events that affect no project (member changes). */
export const installWideChain = "";

/**
 * The chain a caller reads: a project's (a backend only its own), or with `projectId` omitted the
 * install-wide log, which only an ADMIN may read.
 */
export async function auditChainFor(db: Database, projects: ProjectService, ctx: RequestContext, projectId: string | null | undefined): Promise<string> {
  if (projectId === null || projectId === undefined) {
    if (ctx.actor.kind !== "member" || ctx.actor.member.role !== TeamRole.ADMIN) {
      throw new AppError(ErrorCode.FORBIDDEN, "Only an ADMIN may read the install-wide audit log.");
    }
    return installWideChain;
  }
  return (await projects.requireForActor(db.sql, ctx.actor, projectId)).id;
}

function decodeSeqCursor(cursor: string | null | undefined): number | null {
  const parts = decodeCursor(cursor, ["number"]);
  if (parts === null) return null;
  const seq = parts[0] as number;
  if (!Number.isSafeInteger(seq) || seq < 1) throw bad(`"after" is not a valid cursor.`);
  return seq;
}
