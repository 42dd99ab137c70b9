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
import { canImpersonate } from "../members/team-role.js";
import type { ProjectService } from "../projects/project.service.js";
import type { SessionService } from "../sessions/session.service.js";
import { sessionRepository } from "../sessions/session.repository.js";
import { userRepository } from "../users/user.repository.js";
import { ImpersonationToken } from "./impersonation-token.entity.js";
import { impersonationTokenRepository } from "./impersonation-token.repository.js";
import { authenticateTokenDraft, createTokenDraft } from "./token.audit.js";
import type { AuthenticateImpersonationTokenPayload, CreateImpersonationTokenPayload } from "./token.types.js";

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
  ) {}

  /**
   * Issues a single-use token for impersonating `userId`, valid for the policy's TTL. Only for
   * members whose role may impersonate (the authChecker), in a project whose policy allows it.
   */
  async create(ctx: RequestContext, input: { projectId: string; userId: string; reason: string }): Promise<CreateImpersonationTokenPayload> {
    if (ctx.actor.kind !== "member") throw new AppError(ErrorCode.FORBIDDEN);
    const member = ctx.actor.member;
    return countingOutcome(this.metrics.tokensCreated, this.audit.audited(ctx, createTokenDraft(ctx, input), async (tx) => {
      const reason = requiredText(input.reason, "reason", 500);
      const project = await this.projects.requireForActor(tx.sql, ctx.actor, input.projectId);
      if (!project.allowImpersonation) throw new AppError(ErrorCode.IMPERSONATION_DISABLED);
      const user = isPlausibleId(input.userId) ? await userRepository.findInProject(tx.sql, project.id, input.userId) : null;
      if (!user) throw new AppError(ErrorCode.NOT_FOUND, "User not found in this project.");
      // A protected user is never impersonated without an approved request (SPEC §9); approvals do not exist yet.
      if (user.protected) throw new AppError(ErrorCode.APPROVAL_REQUIRED);

      const now = this.clock.now();
      const token = randomSecret(SecretPrefix.impersonationToken);
      const row = detachedEntity(ImpersonationToken, {
        id: newId("imptoken"),
        projectId: project.id,
        userId: user.id,
        impersonatorId: member.id,
        impersonatorEmail: member.email,
        reason,
        tokenHash: hashSecret(token),
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
      if (!project.allowImpersonation) throw new AppError(ErrorCode.IMPERSONATION_DISABLED);
      // Voided by a kill switch: gone, whatever else has happened since.
      if (row.voidedAt) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_NOT_FOUND);
      if (row.usedAt) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_ALREADY_USED);
      const now = this.clock.now();
      if (row.expiresAt.getTime() <= now.getTime()) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_EXPIRED);
      if (!impersonator || impersonator.disabled || !canImpersonate(impersonator.role)) {
        throw new AppError(ErrorCode.FORBIDDEN, "The impersonator may no longer impersonate.");
      }
      // Protected since the token was created: refused, and the token stays unused.
      if (user?.protected) throw new AppError(ErrorCode.APPROVAL_REQUIRED);
      // Counted inside the transaction that holds the project's chain lock (taken first by
      // audited), so concurrent exchanges in this project count one after another. Refused: the
      // token stays unused, usable until it expires should a slot free up.
      const limit = project.maxActiveSessionsPerImpersonator;
      if (limit !== null && limit !== undefined && (await sessionRepository.countActiveFor(tx.sql, project.id, row.impersonatorId, now)) >= limit) {
        throw new AppError(ErrorCode.IMPERSONATION_LIMIT_REACHED);
      }

      if (!(await impersonationTokenRepository.markUsed(tx.sql, row.id, now))) throw new AppError(ErrorCode.IMPERSONATION_TOKEN_ALREADY_USED);

      if (!user) throw new AppError(ErrorCode.NOT_FOUND, "The token's user no longer exists.");
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
