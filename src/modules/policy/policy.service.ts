import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database } from "../../db/database.js";
import { intInRange } from "../../graphql/validation.js";
import { callerOf, type AuditLog } from "../audit/audit-log.service.js";
import type { ProjectService } from "../projects/project.service.js";
import type { SessionService } from "../sessions/session.service.js";
import type { TokenService } from "../tokens/token.service.js";
import { setPolicyDraft } from "./policy.audit.js";
import { projectRepository, type PolicyColumns } from "../projects/project.repository.js";
import { ImpersonationPolicy, maxActiveSessionsBounds, tokenTtlBounds, type ImpersonationPolicyInput } from "./policy.types.js";

export class PolicyService {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly projects: ProjectService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly db: Database,
  ) {}

  async get(ctx: RequestContext, projectId: string): Promise<ImpersonationPolicy> {
    return ImpersonationPolicy.of(await this.projects.requireForActor(this.db.sql, ctx.actor, projectId));
  }

  /**
   * Changes the policy and audits old and new values. Turning impersonation off also revokes the
   * project's active sessions and voids its outstanding tokens, in the same transaction; turning it
   * back on revives neither.
   */
  async set(ctx: RequestContext, projectId: string, input: ImpersonationPolicyInput): Promise<ImpersonationPolicy> {
    return this.audit.audited(ctx, setPolicyDraft(projectId), async (tx, draft) => {
      if (input.tokenTtlSeconds !== undefined && input.tokenTtlSeconds !== null) {
        intInRange(input.tokenTtlSeconds, "tokenTtlSeconds", tokenTtlBounds.min, tokenTtlBounds.max);
      }
      if (input.maxActiveSessionsPerImpersonator !== undefined && input.maxActiveSessionsPerImpersonator !== null) {
        intInRange(input.maxActiveSessionsPerImpersonator, "maxActiveSessionsPerImpersonator", maxActiveSessionsBounds.min, maxActiveSessionsBounds.max);
      }
      const project = await this.projects.requireForActor(tx.sql, ctx.actor, projectId);
      const before = ImpersonationPolicy.of(project);
      const after = ImpersonationPolicy.of({
        id: project.id,
        allowImpersonation: typeof input.allowImpersonation === "boolean" ? input.allowImpersonation : before.allowImpersonation,
        allowFrontendAuthentication:
          typeof input.allowFrontendAuthentication === "boolean" ? input.allowFrontendAuthentication : before.allowFrontendAuthentication,
        tokenTtlSeconds: typeof input.tokenTtlSeconds === "number" ? input.tokenTtlSeconds : before.tokenTtlSeconds,
        // An explicit null clears the limit; absent leaves it.
        maxActiveSessionsPerImpersonator:
          input.maxActiveSessionsPerImpersonator === undefined ? before.maxActiveSessionsPerImpersonator : input.maxActiveSessionsPerImpersonator,
      });
      await projectRepository.setPolicy(tx.sql, project.id, changedValues(before, after));
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

function policyValues(policy: PolicyColumns): PolicyColumns {
  return {
    allowImpersonation: policy.allowImpersonation,
    allowFrontendAuthentication: policy.allowFrontendAuthentication,
    tokenTtlSeconds: policy.tokenTtlSeconds,
    maxActiveSessionsPerImpersonator: policy.maxActiveSessionsPerImpersonator,
  };
}

/** The values `after` changes: only these are written (nothing at all when none is). */
function changedValues(before: PolicyColumns, after: PolicyColumns): Partial<PolicyColumns> {
  const changes: Partial<PolicyColumns> = {};
  if (after.allowImpersonation !== before.allowImpersonation) changes.allowImpersonation = after.allowImpersonation;
  if (after.allowFrontendAuthentication !== before.allowFrontendAuthentication) changes.allowFrontendAuthentication = after.allowFrontendAuthentication;
  if (after.tokenTtlSeconds !== before.tokenTtlSeconds) changes.tokenTtlSeconds = after.tokenTtlSeconds;
  if (after.maxActiveSessionsPerImpersonator !== before.maxActiveSessionsPerImpersonator) {
    changes.maxActiveSessionsPerImpersonator = after.maxActiveSessionsPerImpersonator;
  }
  return changes;
}
