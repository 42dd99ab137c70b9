import { logger } from "../../log/logger.js";
import { actorId, actorType, isAuthenticated, type AuditedActor } from "../../auth/actor.js";
import { newId } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import { detachedEntity } from "../../db/detached-entity.js";
import type { RequestContext } from "../../context.js";
import type { Sql, Database, Tx } from "../../db/database.js";
import { lockUntilCommit } from "../../db/dialect.js";
import { isAppError } from "../../errors/app-error.js";
import { clipCharacters } from "../../graphql/validation.js";
import { ErrorCode } from "../../errors/codes.js";
import type { ImpersonationMode } from "../policy/impersonation-mode.js";
import { AuditEvent } from "./audit-event.entity.js";
import { callerProjectOf, failureScoped } from "./audit-draft-scope.js";
import { auditEventRepository } from "./audit-event.repository.js";
import { chainHash, genesisHash } from "./audit-hash.js";
import { AuditStatus, eventTypeFor, type AuditAction } from "./audit-status.js";

/** What an audited operation knows about itself; filled in as the operation learns it. */
export interface AuditDraft {
  action: AuditAction;
  projectId?: string | null;
  userId?: string | null;
  impersonatorId?: string | null;
  impersonatorEmail?: string | null;
  reason?: string | null;
  sessionId?: string | null;
  mode?: ImpersonationMode | null;
  impersonationRequestId?: string | null;
  details?: Record<string, unknown> | null;
}

/** The request an event is recorded for. */
export interface AuditCaller {
  /** `cli`: `npm run admin` (no request, no credential). */
  actor: AuditedActor;
  requestId: string;
  ipAddress: string | null;
  userAgent: string | null;
}

/**
 * What happens to each appended event besides its own row, named here rather than hidden in
 * listeners: the webhook outbox in the event's transaction, and after commit the live subscribers,
 * the delivery worker and the NDJSON stream.
 */
export interface AuditLogSteps {
  /** In the event's own transaction: queue its webhook deliveries. Returns how many it queued. */
  webhookOutbox: { record(tx: Tx, event: AuditEvent): Promise<number> };
  /** After commit, when a delivery was queued: send it now rather than at the next poll. */
  webhookWorker: { wake(): void };
  /** After commit: `auditEventAdded` subscribers, on every instance. */
  subscribers: { publish(event: AuditEvent): void };
  /** After commit: the NDJSON stream (AUDIT_LOG_FILE), when configured. */
  stream: { write(event: AuditEvent): void } | null;
}

/**
 * The append-only audit log. Events are written in the caller's transaction, chained by hash per
 * project, and announced (see AuditLogSteps) only after that transaction commits.
 */
export class AuditLog {
  constructor(
    private readonly clock: Clock,
    private readonly db: Database,
    private readonly steps: AuditLogSteps,
  ) {}

  /** Appends one event inside `tx`. */
  async append(
    tx: Tx,
    caller: AuditCaller,
    draft: AuditDraft,
    outcome: { status: AuditStatus; errorCode?: string | null },
  ): Promise<AuditEvent> {
    const projectId = clip(draft.projectId, 64) ?? "";
    const previous = await this.lastOfChain(tx.sql, projectId);
    const event = detachedEntity(AuditEvent, {
      id: newId("event"),
      projectId,
      seq: previous.seq + 1,
      action: draft.action,
      status: outcome.status,
      eventType: outcome.status === AuditStatus.SUCCESS ? eventTypeFor(draft.action) : null,
      errorCode: outcome.errorCode ?? null,
      requestId: caller.requestId,
      userId: clip(draft.userId, 64),
      impersonatorId: clip(draft.impersonatorId, 64),
      impersonatorEmail: clip(draft.impersonatorEmail, 320),
      reason: clip(draft.reason, 500),
      sessionId: clip(draft.sessionId, 64),
      mode: draft.mode ?? null,
      impersonationRequestId: clip(draft.impersonationRequestId, 64),
      ipAddress: caller.ipAddress,
      userAgent: caller.userAgent,
      actorType: actorType(caller.actor),
      actorId: actorId(caller.actor),
      details: draft.details ? JSON.stringify(draft.details) : null,
      createdAt: this.clock.now(),
      prevHash: previous.hash,
      hash: "",
    });
    event.hash = chainHash(event.prevHash, event);
    await auditEventRepository.append(tx.sql, event);
    const queuedDeliveries = await this.steps.webhookOutbox.record(tx, event);
    tx.afterCommit(() => this.announce(event, queuedDeliveries > 0));
    return event;
  }

  /**
   * The transaction of every audited write: `Database.transaction` that first takes the chain locks
   * of `projectIds` (in one order, so that two such transactions never wait on each other in
   * opposite orders), before the work takes any row lock. An event appended later for a project not
   * named here takes its lock then (correct, but it may deadlock and be retried).
   */
  transaction<T>(projectIds: ReadonlyArray<string | null | undefined>, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const locks = [...new Set(projectIds.filter((id): id is string => !!id).map((id) => clip(id, 64)!))].sort();
    return this.db.transaction(async (tx) => {
      for (const projectId of locks) await this.lockChain(tx.sql, projectId);
      return fn(tx);
    });
  }

  /**
   * Runs an audited operation: `fn`'s change and its SUCCESS event commit in one transaction, which
   * takes the chain lock of the draft's project first; if `fn` throws, that transaction rolls back
   * and a FAILURE event is written in a transaction of its own. Either way the call leaves exactly
   * one event of its own. When the arguments do not name the project (a member revoking a session
   * by id), `projectOf` finds it before the transaction opens, so that its lock still comes first;
   * `fn` reads what it needs again inside the transaction.
   */
  async audited<T>(
    ctx: RequestContext,
    draft: AuditDraft,
    fn: (tx: Tx, draft: AuditDraft) => Promise<T>,
    options: { projectOf?: () => Promise<string | null> } = {},
  ): Promise<T> {
    const caller = callerOf(ctx);
    try {
      if (!draft.projectId && options.projectOf) draft.projectId = await options.projectOf();
      // A backend or frontend succeeds only in its own project: never lock the chain of one it merely named.
      return await this.transaction([callerProjectOf(ctx) ?? draft.projectId], async (tx) => {
        const result = await fn(tx, draft);
        await this.append(tx, caller, draft, { status: AuditStatus.SUCCESS });
        return result;
      });
    } catch (error) {
      const code = isAppError(error) ? error.code : ErrorCode.INTERNAL_SERVER_ERROR;
      await this.recordFailure(ctx, draft, code);
      throw error;
    }
  }

  /**
   * Writes a FAILURE event in its own transaction (used for denied and failed calls), in the log
   * `failureScoped` picks: the draft's project is whatever the refused call's arguments named.
   */
  async recordFailure(ctx: RequestContext, draft: AuditDraft, errorCode: string): Promise<void> {
    if (!isAuthenticated(ctx.actor)) return;
    const caller = callerOf(ctx);
    try {
      await this.db.transaction(async (tx) => this.append(tx, caller, await failureScoped(tx.sql, ctx, draft), { status: AuditStatus.FAILURE, errorCode }));
    } catch (error) {
      logger.error({ err: error }, "failed to record a failure audit event");
    }
  }

  /**
   * Serialises writers of one project's chain across connections and instances (PostgreSQL). Take
   * it before the first row lock of a transaction; taking it again later is free.
   */
  lockChain(sql: Sql, projectId: string): Promise<void> {
    return lockUntilCommit(sql, `audit:${projectId}`);
  }

  private async lastOfChain(sql: Sql, projectId: string): Promise<{ seq: number; hash: string }> {
    await this.lockChain(sql, projectId);
    return (await auditEventRepository.lastOfChain(sql, projectId)) ?? { seq: 0, hash: genesisHash };
  }

  /** After commit: every step runs, whatever another one did. */
  private announce(event: AuditEvent, deliveriesQueued: boolean): void {
    const run = (step: string, fn: () => void) => {
      try {
        fn();
      } catch (error) {
        logger.error({ err: error }, `audit ${step} failed`);
      }
    };
    run("publish to subscribers", () => this.steps.subscribers.publish(event));
    if (deliveriesQueued) run("webhook wake-up", () => this.steps.webhookWorker.wake());
    if (this.steps.stream) run("stream write", () => this.steps.stream!.write(event));
  }
}

export function callerOf(ctx: RequestContext): AuditCaller {
  if (!isAuthenticated(ctx.actor)) throw new Error("audited call without an authenticated actor");
  return { actor: ctx.actor, requestId: ctx.requestId, ipAddress: ctx.ipAddress, userAgent: ctx.userAgent };
}

/** Arguments echoed into an event are untrusted: keep them within their column sizes. */
function clip(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  return clipCharacters(value, max);
}
