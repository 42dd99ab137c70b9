import { newId } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database, Sql } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { isPlausibleId, requiredText } from "../../graphql/validation.js";
import { countingOutcome, type Metrics } from "../../metrics/metrics.js";
import type { AuditLog } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";
import type { TeamMember } from "../members/team-member.entity.js";
import { teamMemberRepository } from "../members/team-member.repository.js";
import { TeamRole } from "../members/team-role.js";
import type { ImpersonationMode } from "../policy/impersonation-mode.js";
import type { Project } from "../projects/project.entity.js";
import type { ProjectService } from "../projects/project.service.js";
import { assertImpersonationAllowed, holdImpersonator, resolveMode } from "../tokens/impersonation-rules.js";
import { userRepository } from "../users/user.repository.js";
import { decideRequestDraft, requestImpersonationDraft } from "./approval.audit.js";
import { ImpersonationRequest } from "./impersonation-request.entity.js";
import { impersonationRequestRepository } from "./impersonation-request.repository.js";
import { effectiveStatus, ImpersonationRequestStatus } from "./impersonation-request-status.js";

const { PENDING, APPROVED, DENIED } = ImpersonationRequestStatus;

/**
 * Four-eyes approval (SPEC §9): a member requests to impersonate a user, another enabled ADMIN
 * approves or denies, and the requester creates one token from the approval. Each step is audited
 * and each status change is one conditional update, so that racing calls have exactly one winner.
 */
export class ApprovalService {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly projects: ProjectService,
    private readonly db: Database,
    private readonly metrics: Metrics,
  ) {}

  /** Opens a PENDING request; refused as token creation would be (policy off, mode not allowed, no such user). */
  async request(
    ctx: RequestContext,
    input: { projectId: string; userId: string; reason: string; mode?: ImpersonationMode | null },
  ): Promise<ImpersonationRequest> {
    if (ctx.actor.kind !== "member") throw new AppError(ErrorCode.FORBIDDEN);
    const member = ctx.actor.member;
    return countingOutcome(this.metrics.approvalRequests, this.audit.audited(ctx, requestImpersonationDraft(ctx, input), async (tx, draft) => {
      const reason = requiredText(input.reason, "reason", 500);
      const project = await this.projects.requireForActor(tx.sql, ctx.actor, input.projectId);
      assertImpersonationAllowed(project);
      const user = isPlausibleId(input.userId) ? await userRepository.findInProject(tx.sql, project.id, input.userId) : null;
      if (!user) throw new AppError(ErrorCode.NOT_FOUND, "User not found in this project.");
      const mode = resolveMode(project, input.mode);
      await holdImpersonator(tx.sql, member.id);
      const now = this.clock.now();
      const request = detachedEntity(ImpersonationRequest, {
        id: newId("impreq"),
        projectId: project.id,
        userId: user.id,
        requesterId: member.id,
        requesterEmail: member.email,
        reason,
        mode,
        status: PENDING,
        decidedById: null,
        decidedAt: null,
        denialReason: null,
        usedAt: null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + project.approvalTtlMinutes * 60_000),
      });
      await impersonationRequestRepository.insert(tx.sql, request);
      Object.assign(draft, { mode, impersonationRequestId: request.id });
      return request;
    }), "requested");
  }

  approve(ctx: RequestContext, id: string): Promise<ImpersonationRequest> {
    return this.decide(ctx, id, AuditAction.ApproveImpersonationRequest, null);
  }

  deny(ctx: RequestContext, id: string, reason: string): Promise<ImpersonationRequest> {
    return this.decide(ctx, id, AuditAction.DenyImpersonationRequest, reason);
  }

  /** A project's requests, newest first; `status` as readers see it (an open request past its time is EXPIRED). */
  async list(
    ctx: RequestContext,
    args: { projectId: string; status?: ImpersonationRequestStatus | null; first?: number | null; after?: string | null },
  ): Promise<Connection<ImpersonationRequest>> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, args.projectId);
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, ["number", "string"]) as [number, string] | null;
    const now = this.clock.now();
    const rows = await impersonationRequestRepository.list(
      this.db.sql,
      { projectId: project.id, status: args.status ?? null, now },
      after && [new Date(after[0]), after[1]],
      limit + 1,
    );
    return toConnection(rows.map((row) => asRead(row, now)), limit, (row) => encodeCursor([row.createdAt.getTime(), row.id]));
  }

  /**
   * The request a token creation names, if it is the caller's, in this project, for this user and
   * mode; whether it is (still) approved is decided when the creation marks it used.
   */
  async requestForToken(
    sql: Sql,
    member: TeamMember,
    project: Project,
    input: { requestId?: string | null; userId: string; mode?: ImpersonationMode | null },
  ): Promise<ImpersonationRequest> {
    const request = typeof input.requestId === "string" && isPlausibleId(input.requestId) ? await impersonationRequestRepository.findById(sql, input.requestId) : null;
    if (!request || request.projectId !== project.id || request.requesterId !== member.id) throw new AppError(ErrorCode.IMPERSONATION_REQUEST_NOT_FOUND);
    if (input.userId !== request.userId) throw new AppError(ErrorCode.BAD_USER_INPUT, "userId must be the approved request's user.");
    if (input.mode && input.mode !== request.mode) throw new AppError(ErrorCode.BAD_USER_INPUT, "mode must be the approved request's mode.");
    return request;
  }

  /** Voids (EXPIRED) every open request matching `filter`: the kill switches. Returns how many. */
  voidOpen(sql: Sql, filter: { projectId: string } | { requesterId: string }, now: Date): Promise<number> {
    return impersonationRequestRepository.voidOpen(sql, filter, now);
  }

  private async decide(
    ctx: RequestContext,
    id: string,
    action: typeof AuditAction.ApproveImpersonationRequest | typeof AuditAction.DenyImpersonationRequest,
    denialReason: string | null,
  ): Promise<ImpersonationRequest> {
    if (ctx.actor.kind !== "member") throw new AppError(ErrorCode.FORBIDDEN);
    const decider = ctx.actor.member;
    const find = (sql: Sql) => (isPlausibleId(id) ? impersonationRequestRepository.findById(sql, id) : Promise.resolve(null));
    const approving = action === AuditAction.ApproveImpersonationRequest;
    const decided = this.audit.audited(
      ctx,
      decideRequestDraft(ctx, action, null, id),
      async (tx, draft) => {
        const reason = approving ? null : requiredText(denialReason, "reason", 500);
        const request = await find(tx.sql);
        if (!request) throw new AppError(ErrorCode.IMPERSONATION_REQUEST_NOT_FOUND);
        Object.assign(draft, decideRequestDraft(ctx, action, request, id));
        if (reason) draft.details = { denialReason: reason };
        if (request.requesterId === decider.id) throw new AppError(ErrorCode.FORBIDDEN, "A request is decided by another ADMIN, never by its requester.");
        // The decider was authenticated before this transaction: still an enabled ADMIN, until it commits.
        if (!(await teamMemberRepository.holdIfEnabledAs(tx.sql, decider.id, [TeamRole.ADMIN]))) {
          throw new AppError(ErrorCode.FORBIDDEN, "Only an enabled ADMIN decides a request.");
        }
        const now = this.clock.now();
        const status = approving ? APPROVED : DENIED;
        // The one conditional update that picks the winner among racing decisions and kill switches.
        if (!(await impersonationRequestRepository.decide(tx.sql, request.id, { status, decidedById: decider.id, denialReason: reason }, now))) {
          throw new AppError(ErrorCode.IMPERSONATION_REQUEST_ALREADY_DECIDED);
        }
        return Object.assign(request, { status, decidedById: decider.id, decidedAt: now, denialReason: reason });
      },
      { projectOf: async () => (await find(this.db.sql))?.projectId ?? null },
    );
    return countingOutcome(this.metrics.approvalRequests, decided, approving ? "approved" : "denied");
  }
}

/** A request as readers see it: its effective status at `now`. */
function asRead(request: ImpersonationRequest, now: Date): ImpersonationRequest {
  request.status = effectiveStatus(request.status, request.expiresAt, now);
  return request;
}
