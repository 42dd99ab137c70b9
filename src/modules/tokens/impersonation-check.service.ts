import { decide, Permission } from "../../auth/permissions.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database } from "../../db/database.js";
import { AppError, isAppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import type { ImpersonationMode } from "../policy/impersonation-mode.js";
import type { ImpersonationCheck } from "../approvals/approval.types.js";
import { assertExchangeAllowed } from "./impersonation-rules.js";
import type { TokenService } from "./token.service.js";

/**
 * `impersonationCheck`: what creating a token now, then exchanging it, would come to for the calling
 * member, without writing anything. It runs the real calls' own checks (the matrix's `decide`,
 * `TokenService.planCreation`, `assertExchangeAllowed`), so its answer cannot drift from theirs.
 */
export class ImpersonationCheckService {
  constructor(
    private readonly clock: Clock,
    private readonly tokens: TokenService,
    private readonly db: Database,
  ) {}

  async check(ctx: RequestContext, input: { projectId: string; userId: string; mode?: ImpersonationMode | null }): Promise<ImpersonationCheck> {
    try {
      if (ctx.actor.kind !== "member" || decide(ctx.actor, Permission.CreateImpersonationToken) !== "allow") {
        throw new AppError(ErrorCode.FORBIDDEN, "Your role may not impersonate.");
      }
      const member = ctx.actor.member;
      const plan = await this.tokens.planCreation(this.db.sql, ctx, { ...input, requestId: null });
      await assertExchangeAllowed(this.db.sql, { project: plan.project, impersonator: member, user: plan.user, mode: plan.mode, approved: false }, this.clock.now());
      return { allowed: true, requiresApproval: false, reasonCode: null, message: null };
    } catch (error) {
      if (!isAppError(error)) throw error;
      // Approval is the last rule token creation checks: with APPROVAL_REQUIRED, an approved request
      // would have passed every rule before it.
      return { allowed: false, requiresApproval: error.code === ErrorCode.APPROVAL_REQUIRED, reasonCode: error.code, message: error.message };
    }
  }
}
