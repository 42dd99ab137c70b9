import { hashSecret, newId, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import { detachedEntity } from "../../db/detached-entity.js";
import type { FailureLimiter } from "../../auth/failure-limiter.js";
import type { SessionJwt } from "../../auth/session-jwt.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Sql } from "../../db/database.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { isPlausibleId, requiredText } from "../../graphql/validation.js";
import { countingOutcome, type Metrics } from "../../metrics/metrics.js";
import type { AuditLog } from "../audit/audit-log.service.js";
import type { ApprovalService } from "../approvals/approval.service.js";
import type { ImpersonationRequest } from "../approvals/impersonation-request.entity.js";
import { impersonationRequestRepository } from "../approvals/impersonation-request.repository.js";
import type { ImpersonationMode } from "../policy/impersonation-mode.js";
import type { Project } from "../projects/project.entity.js";
import type { User } from "../users/user.entity.js";
import { assertApproved, assertExchangeAllowed, assertImpersonationAllowed, holdImpersonator, resolveMode } from "./impersonation-rules.js";
import type { ProjectService } from "../projects/project.service.js";
import type { SessionService } from "../sessions/session.service.js";
import { userRepository } from "../users/user.repository.js";
import { ImpersonationToken } from "./impersonation-token.entity.js";
import { impersonationTokenRepository } from "./impersonation-token.repository.js";
import { authenticateTokenDraft, createTokenDraft } from "./token.audit.js";
import type { AuthenticateImpersonationTokenPayload, CreateImpersonationTokenPayload } from "./token.types.js";

export interface CreateTokenInput {
  projectId: string;
  userId: string;
  reason: string;
  mode?: ImpersonationMode | null;
  requestId?: string | null;
}

/** Longer presented tokens are unknown without hashing them. */
export const maxTokenLength = 256;

export class TokenService {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly projects: ProjectService,
    private readonly sessions: SessionService,
    private readonly jwt: SessionJwt,
    private readonly failures: FailureLimiter,
    private readonly metrics: Metrics,
    private readonly approvals: ApprovalService,
  ) {}

  /**
   * Issues a single-use token for impersonating `userId`, valid for the policy's TTL. Only for
   * members whose role may impersonate (the authChecker), in a project whose policy allows it; where
   * approval is required, only from the caller's approved request (`requestId`), which it uses up.
   */
  async create(ctx: RequestContext, input: CreateTokenInput): Promise<CreateImpersonationTokenPayload> {
    if (ctx.actor.kind !== "member") throw new AppError(ErrorCode.FORBIDDEN);
    const member = ctx.actor.member;
    return countingOutcome(this.metrics.tokensCreated, this.audit.audited(ctx, createTokenDraft(ctx, input), async (tx, draft) => {
      const reason = requiredText(input.reason, "reason", 500);
      const { project, user, mode, request } = await this.planCreation(tx.sql, ctx, input);
      draft.mode = mode;
      draft.impersonationRequestId = request?.id ?? null;
      await holdImpersonator(tx.sql, member.id);
      const now = this.clock.now();
      if (request) {
        // One conditional update: of concurrent creations from one approval exactly one wins.
        if (!(await impersonationRequestRepository.markUsed(tx.sql, request.id, now))) throw new AppError(ErrorCode.IMPERSONATION_REQUEST_NOT_APPROVED);
        // The approval was for this reason only (refused here, the transaction leaves the request APPROVED).
        if (reason !== request.reason) throw new AppError(ErrorCode.BAD_USER_INPUT, "The reason must be the approved request's reason.");
      }

      const token = randomSecret(SecretPrefix.impersonationToken);
      const row = detachedEntity(ImpersonationToken, {
        id: newId("imptoken"),
        projectId: project.id,
        userId: user.id,
        impersonatorId: member.id,
        impersonatorEmail: member.email,
        reason,
        tokenHash: hashSecret(token),
        mode,
        impersonationRequestId: request?.id ?? null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + project.tokenTtlSeconds * 1000),
        usedAt: null,
        voidedAt: null,
      });
      await impersonationTokenRepository.insert(tx.sql, row);

      return { token, expiresAt: row.expiresAt, launchUrl: launchUrlFor(project.loginRedirectUrl, token) };
    }));
  }

  /**
   * Every rule token creation checks before it writes, in the order it checks them (also what
   * `impersonationCheck` runs): the project, its policy, the approved request named, the user, the
   * mode, and whether approval is required. Throws the code the call gets.
   */
  async planCreation(
    sql: Sql,
    ctx: RequestContext,
    input: { projectId: string; userId: string; mode?: ImpersonationMode | null; requestId?: string | null },
  ): Promise<{ project: Project; user: User; mode: ImpersonationMode; request: ImpersonationRequest | null }> {
    if (ctx.actor.kind !== "member") throw new AppError(ErrorCode.FORBIDDEN);
    const project = await this.projects.requireForActor(sql, ctx.actor, input.projectId);
    assertImpersonationAllowed(project);
    const request = input.requestId === null || input.requestId === undefined ? null : await this.approvals.requestForToken(sql, ctx.actor.member, project, input);
    const user = isPlausibleId(input.userId) ? await userRepository.findInProject(sql, project.id, input.userId) : null;
    if (!user) throw new AppError(ErrorCode.NOT_FOUND, "User not found in this project.");
    const mode = resolveMode(project, request ? request.mode : input.mode);
    assertApproved(project, user, request !== null);
    return { project, user, mode, request };
  }

  /**
   * Exchanges a token for a session. In one transaction: re-checks the policy and the impersonator,
   * marks the token used with a conditional UPDATE (its affected-row count picks the one winner
   * among concurrent callers), creates the session and writes the audit event.
   */
  async authenticate(ctx: RequestContext, token: string): Promise<AuthenticateImpersonationTokenPayload> {
    if (ctx.actor.kind !== "backend" && ctx.actor.kind !== "frontend") throw new AppError(ErrorCode.FORBIDDEN);
    const actor = ctx.actor;
    // Browsers (the frontend) and the backend guess into separate budgets: anyone holding the public
    // token could otherwise exhaust the backend's, behind a proxy where everyone shares one address.
    const guessKey = `token:${actor.kind}:${actor.project.id}:${ctx.ipAddress ?? "unknown"}`;
    return countingOutcome(this.metrics.tokenExchanges, this.audit.audited(ctx, authenticateTokenDraft(ctx, null), async (tx, draft) => {
      if (this.failures.isLimited(guessKey)) throw new AppError(ErrorCode.RATE_LIMITED, "Too many unknown tokens; retry later.");
      const found =
        typeof token === "string" && token.length <= maxTokenLength
          ? await impersonationTokenRepository.findForExchange(tx.sql, hashSecret(token))
          : null;
      const row = found?.token;
      if (!row || row.projectId !== actor.project.id) {
        this.failures.recordFailure(guessKey);
        throw new AppError(ErrorCode.IMPERSONATION_TOKEN_NOT_FOUND);
      }
      Object.assign(draft, authenticateTokenDraft(ctx, row));

      const { project, impersonator, user } = found;
      if (!project) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_NOT_FOUND);
      if (actor.kind === "frontend" && !project.allowFrontendAuthentication) {
        throw new AppError(ErrorCode.FRONTEND_AUTHENTICATION_DISABLED);
      }
      assertImpersonationAllowed(project);
      // Voided by a kill switch: gone, whatever else has happened since.
      if (row.voidedAt) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_NOT_FOUND);
      if (row.usedAt) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_ALREADY_USED);
      const now = this.clock.now();
      if (row.expiresAt.getTime() <= now.getTime()) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_EXPIRED);
      if (!user) throw new AppError(ErrorCode.NOT_FOUND, "The token's user no longer exists.");
      // Refused here, the token stays unused: usable until it expires should the refusal's cause
      // go away (a session slot freeing up, say).
      await assertExchangeAllowed(tx.sql, { project, impersonator, user, mode: row.mode, approved: row.impersonationRequestId !== null }, now);

      if (!(await impersonationTokenRepository.markUsed(tx.sql, row.id, now))) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_ALREADY_USED);

      const { session, sessionToken } = await this.sessions.start(tx.sql, row, now);
      draft.sessionId = session.id;
      const sessionJwt = this.jwt.signFor(session);
      return { requestId: ctx.requestId, userId: user.id, user, sessionToken, sessionJwt, session };
    }));
  }

  /** Voids every unused, unexpired token matching `filter` (the kill switches); returns how many. */
  voidOutstanding(sql: Sql, filter: { projectId: string } | { impersonatorId: string }, now: Date): Promise<number> {
    return impersonationTokenRepository.voidOutstanding(sql, filter, now);
  }
}

/**
 * The login redirect URL with `token_type=impersonation&token=<token>` added to its query. The
 * query the project set is kept as written (re-serialising it would turn `a+b` into `a%2Bb`-like
 * variants and `flag` into `flag=`); only parameters of the same names are replaced.
 */
function launchUrlFor(loginRedirectUrl: string, token: string): string {
  const url = new URL(loginRedirectUrl);
  if (url.searchParams.has("token") || url.searchParams.has("token_type")) {
    url.searchParams.set("token_type", "impersonation");
    url.searchParams.set("token", token);
    return url.toString();
  }
  const query = url.search.slice(1);
  // The token is URL-safe (base64url with a prefix): nothing to encode.
  url.search = `${query ? `${query}&` : ""}token_type=impersonation&token=${token}`;
  return url.toString();
}
