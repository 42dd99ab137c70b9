import { actorId, actorType, isAuthenticated, type AuthenticatedActor } from "../../auth/actor.js";
import { newId } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import { detachedEntity } from "../../db/detached-entity.js";
import type { RequestContext } from "../../context.js";
import type { Sql, SqlDatabase, SqlTx } from "../../db/sql.js";
import { inTransaction, type Tx } from "../../db/transaction.js";
import { isAppError } from "../../errors/app-error.js";
import { clipCharacters } from "../../graphql/validation.js";
import { ErrorCode } from "../../errors/codes.js";
import { AuditEvent } from "./audit-event.entity.js";
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
  details?: Record<string, unknown> | null;
}

/** The request an event is recorded for. */
export interface AuditCaller {
  actor: AuthenticatedActor;
  requestId: string;
  ipAddress: string | null;
  userAgent: string | null;
}

export type InTransactionAuditListener = (tx: SqlTx, event: AuditEvent) => Promise<void>;
export type CommittedAuditListener = (event: AuditEvent) => void | Promise<void>;

/**
 * The append-only audit log. Events are written in the caller's transaction, chained by hash per
 * project, and announced to listeners only after that transaction commits.
 */
export class AuditLog {
  private readonly inTransactionListeners: InTransactionAuditListener[] = [];
  private readonly committedListeners: CommittedAuditListener[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly db: SqlDatabase,
  ) {}

  /** Work that must commit with the event (the webhook outbox). */
  onAppend(listener: InTransactionAuditListener): void {
    this.inTransactionListeners.push(listener);
  }

  /** Work to do once the event is committed (subscriptions, the NDJSON stream, waking workers). */
  onCommitted(listener: CommittedAuditListener): void {
    this.committedListeners.push(listener);
  }

  /** Appends one event inside `tx`. */
  async append(
    tx: SqlTx,
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
    await tx.sql.insert(AuditEvent, event);

    for (const listener of this.inTransactionListeners) await listener(tx, event);
    tx.afterCommit(() => this.announce(event));
    return event;
  }

  /**
   * Runs an audited operation: `fn`'s change and its SUCCESS event commit in one transaction; if
   * `fn` throws, that transaction rolls back and a FAILURE event is written in a transaction of its
   * own. Either way the call leaves exactly one event of its own. `fn` works through MikroORM.
   */
  run<T>(ctx: RequestContext, draft: AuditDraft, fn: (tx: Tx, draft: AuditDraft) => Promise<T>): Promise<T> {
    return this.audited<Tx, T>(ctx, draft, (work) => inTransaction(ctx.em, work), async (tx) => {
      const result = await fn(tx, draft);
      await tx.em.flush();
      return result;
    });
  }

  /** As `run`, for operations written in hand-written SQL (the hot paths): no unit of work at all. */
  runSql<T>(ctx: RequestContext, draft: AuditDraft, fn: (tx: SqlTx, draft: AuditDraft) => Promise<T>): Promise<T> {
    return this.audited<SqlTx, T>(ctx, draft, (work) => this.db.transaction(work), (tx) => fn(tx, draft));
  }

  private async audited<X extends SqlTx, T>(
    ctx: RequestContext,
    draft: AuditDraft,
    transaction: (work: (tx: X) => Promise<T>) => Promise<T>,
    fn: (tx: X) => Promise<T>,
  ): Promise<T> {
    const caller = callerOf(ctx);
    try {
      return await transaction(async (tx) => {
        // The chain lock comes before any row lock the operation takes, so lock order is the same
        // in every audited transaction (no deadlock between a chain writer and a row writer).
        if (draft.projectId) await this.lockChain(tx.sql, clip(draft.projectId, 64)!);
        const result = await fn(tx);
        await this.append(tx, caller, draft, { status: AuditStatus.SUCCESS });
        return result;
      });
    } catch (error) {
      const code = isAppError(error) ? error.code : ErrorCode.INTERNAL_SERVER_ERROR;
      await this.recordFailure(ctx, draft, code);
      throw error;
    }
  }

  /** Writes a FAILURE event in its own transaction (used for denied and failed calls). */
  async recordFailure(ctx: RequestContext, draft: AuditDraft, errorCode: string): Promise<void> {
    if (!isAuthenticated(ctx.actor)) return;
    const caller = callerOf(ctx);
    try {
      await this.db.transaction((tx) => this.append(tx, caller, draft, { status: AuditStatus.FAILURE, errorCode }));
    } catch (error) {
      console.error("failed to record a failure audit event:", error instanceof Error ? error.message : error);
    }
  }

  /**
   * Serialises writers of one project's chain across connections and instances (PostgreSQL). Take
   * it before the first row lock of a transaction; taking it again later is free.
   */
  async lockChain(sql: Sql, projectId: string): Promise<void> {
    if (this.db.kind !== "postgresql") return; // SQLite has one writer at a time already
    await sql.all("select pg_advisory_xact_lock(hashtext(?))", [`audit:${projectId}`]);
  }

  private async lastOfChain(sql: Sql, projectId: string): Promise<{ seq: number; hash: string }> {
    await this.lockChain(sql, projectId);
    const last = await sql.one<{ seq: number; hash: string }>("select seq, hash from audit_events where project_id = ? order by seq desc limit 1", [projectId]);
    return last ? { seq: Number(last.seq), hash: last.hash } : { seq: 0, hash: genesisHash };
  }

  private async announce(event: AuditEvent): Promise<void> {
    for (const listener of this.committedListeners) {
      try {
        await listener(event);
      } catch (error) {
        console.error("audit listener failed:", error instanceof Error ? error.message : error);
      }
    }
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
