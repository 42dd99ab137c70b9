import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import { intInRange } from "../../graphql/validation.js";
import { AuditAction } from "../audit/audit-status.js";
import { callerOf, type AuditLog } from "../audit/audit-log.service.js";
import { Project } from "../projects/project.entity.js";
import type { ProjectService } from "../projects/project.service.js";
import type { SessionService } from "../sessions/session.service.js";
import type { TokenService } from "../tokens/token.service.js";
import { ImpersonationPolicy, tokenTtlBounds, type ImpersonationPolicyInput } from "./policy.types.js";

export class PolicyService {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly projects: ProjectService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
  ) {}

  async get(ctx: RequestContext, projectId: string): Promise<ImpersonationPolicy> {
    return ImpersonationPolicy.of(await this.projects.requireForActorOrm(ctx.em, ctx.actor, projectId));
  }

  /**
   * Changes the policy and audits old and new values. Turning impersonation off also revokes the
   * project's active sessions and voids its outstanding tokens, in the same transaction; turning it
   * back on revives neither.
   */
  async set(ctx: RequestContext, projectId: string, input: ImpersonationPolicyInput): Promise<ImpersonationPolicy> {
    return this.audit.run(ctx, { action: AuditAction.SetImpersonationPolicy, projectId }, async (tx, draft) => {
      if (input.tokenTtlSeconds !== undefined && input.tokenTtlSeconds !== null) {
        intInRange(input.tokenTtlSeconds, "tokenTtlSeconds", tokenTtlBounds.min, tokenTtlBounds.max);
      }
      const project = await this.projects.requireForActorOrm(tx.em, ctx.actor, projectId);
      const before = ImpersonationPolicy.of(project);
      const changes: Partial<Pick<Project, "allowImpersonation" | "allowFrontendAuthentication" | "tokenTtlSeconds">> = {};
      if (typeof input.allowImpersonation === "boolean") changes.allowImpersonation = input.allowImpersonation;
      if (typeof input.allowFrontendAuthentication === "boolean") changes.allowFrontendAuthentication = input.allowFrontendAuthentication;
      if (typeof input.tokenTtlSeconds === "number") changes.tokenTtlSeconds = input.tokenTtlSeconds;
      Object.assign(project, changes); // flushed when the transaction commits
      const after = ImpersonationPolicy.of(project);
      draft.details = { old: policyValues(before), new: policyValues(after) };

      if (before.allowImpersonation && !after.allowImpersonation) {
        const now = this.clock.now();
        const voided = await this.tokens.voidOutstanding(tx.sql, { projectId: project.id }, now);
        const revoked = await this.sessions.revokeActive(tx, callerOf(ctx), { projectId: project.id }, "policy_disabled");
        draft.details = { ...draft.details, revokedSessions: revoked, voidedTokens: voided };
      }
      return after;
    });
  }
}

function policyValues(policy: ImpersonationPolicy) {
  return {
    allowImpersonation: policy.allowImpersonation,
    allowFrontendAuthentication: policy.allowFrontendAuthentication,
    tokenTtlSeconds: policy.tokenTtlSeconds,
  };
}
