import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database, Tx } from "../../db/database.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { intInRange } from "../../graphql/validation.js";
import type { ApprovalService } from "../approvals/approval.service.js";
import { callerOf, type AuditCaller, type AuditLog } from "../audit/audit-log.service.js";
import type { ProjectService } from "../projects/project.service.js";
import type { SessionService } from "../sessions/session.service.js";
import type { TokenService } from "../tokens/token.service.js";
import { ApprovalRequirement } from "./approval-requirement.js";
import { ImpersonationMode } from "./impersonation-mode.js";
import { setPolicyDraft } from "./policy.audit.js";
import { policyColumnNames, projectRepository, type PolicyColumns } from "../projects/project.repository.js";
import { ImpersonationPolicy, approvalTtlBounds, maxActiveSessionsBounds, tokenTtlBounds, type ImpersonationPolicyInput } from "./policy.types.js";

export class PolicyService {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly projects: ProjectService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly approvals: ApprovalService,
    private readonly db: Database,
  ) {}

  async get(ctx: RequestContext, projectId: string): Promise<ImpersonationPolicy> {
    return ImpersonationPolicy.of(await this.projects.requireForActor(this.db.sql, ctx.actor, projectId));
  }

  /**
   * Changes the policy and audits old and new values. Turning impersonation off also revokes the
   * project's active sessions, voids its outstanding tokens and its open impersonation requests, in
   * the same transaction; turning it back on revives none of them. Any other tightening revokes the
   * running sessions the new policy would not allow (`revokeDisallowed`), in the same transaction.
   */
  async set(ctx: RequestContext, projectId: string, input: ImpersonationPolicyInput): Promise<ImpersonationPolicy> {
    return this.audit.audited(ctx, setPolicyDraft(projectId), async (tx, draft) => {
      validateRanges(input);
      const project = await this.projects.requireForActor(tx.sql, ctx.actor, projectId);
      const before = ImpersonationPolicy.of(project);
      const after = ImpersonationPolicy.of({ id: project.id, ...applied(before, input) });
      await projectRepository.setPolicy(tx.sql, project.id, changedValues(before, after));
      draft.details = { old: policyValues(before), new: policyValues(after) };

      if (before.allowImpersonation && !after.allowImpersonation) {
        const now = this.clock.now();
        const voided = await this.tokens.voidOutstanding(tx.sql, { projectId: project.id }, now);
        const expiredRequests = await this.approvals.voidOpen(tx.sql, { projectId: project.id }, now);
        const revoked = await this.sessions.revokeActive(tx, callerOf(ctx), { projectId: project.id }, "policy_disabled");
        draft.details = { ...draft.details, revokedSessions: revoked, voidedTokens: voided, expiredRequests };
      }
      const disallowed = await this.revokeDisallowed(tx, callerOf(ctx), project.id, before, after);
      if (disallowed !== null) draft.details = { ...draft.details, revokedSessions: Number(draft.details?.revokedSessions ?? 0) + disallowed };
      return after;
    });
  }

  /**
   * A policy that tightens applies to running sessions: those `after` would not start are revoked in
   * the change's transaction, each audited (`read_write_disallowed`: READ_WRITE sessions once
   * read-write is off; `approval_required`: sessions not started from an approved request once every
   * impersonation needs one). Returns how many, or null when this change tightens neither. Unused
   * tokens stay: their exchange re-checks mode and approval and refuses them (impersonation-rules.ts),
   * as it does for a token created before any such change.
   */
  private async revokeDisallowed(tx: Tx, caller: AuditCaller, projectId: string, before: PolicyColumns, after: PolicyColumns): Promise<number | null> {
    let revoked: number | null = null;
    if (before.allowReadWrite && !after.allowReadWrite) {
      revoked = await this.sessions.revokeActive(tx, caller, { projectId, mode: ImpersonationMode.READ_WRITE }, "read_write_disallowed");
    }
    if (before.requireApproval !== ApprovalRequirement.ALL && after.requireApproval === ApprovalRequirement.ALL) {
      revoked = (revoked ?? 0) + (await this.sessions.revokeActive(tx, caller, { projectId, withoutApproval: true }, "approval_required"));
    }
    return revoked;
  }
}

function validateRanges(input: ImpersonationPolicyInput): void {
  if (input.tokenTtlSeconds !== undefined && input.tokenTtlSeconds !== null) {
    intInRange(input.tokenTtlSeconds, "tokenTtlSeconds", tokenTtlBounds.min, tokenTtlBounds.max);
  }
  if (input.maxActiveSessionsPerImpersonator !== undefined && input.maxActiveSessionsPerImpersonator !== null) {
    intInRange(input.maxActiveSessionsPerImpersonator, "maxActiveSessionsPerImpersonator", maxActiveSessionsBounds.min, maxActiveSessionsBounds.max);
  }
  if (input.approvalTtlMinutes !== undefined && input.approvalTtlMinutes !== null) {
    intInRange(input.approvalTtlMinutes, "approvalTtlMinutes", approvalTtlBounds.min, approvalTtlBounds.max);
  }
}

/**
 * The policy `input` makes of `before`: absent (or null) fields stay, but an explicit null clears
 * the session limit. With read-write impersonation turned off and no defaultMode given, the default
 * becomes READ_ONLY; a READ_WRITE default without read-write allowed is refused.
 */
function applied(before: PolicyColumns, input: ImpersonationPolicyInput): PolicyColumns {
  const allowReadWrite = typeof input.allowReadWrite === "boolean" ? input.allowReadWrite : before.allowReadWrite;
  const defaultMode = input.defaultMode ?? (allowReadWrite ? before.defaultMode : ImpersonationMode.READ_ONLY);
  if (!allowReadWrite && defaultMode === ImpersonationMode.READ_WRITE) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, "defaultMode cannot be READ_WRITE while allowReadWrite is false.");
  }
  return {
    allowImpersonation: typeof input.allowImpersonation === "boolean" ? input.allowImpersonation : before.allowImpersonation,
    allowFrontendAuthentication:
      typeof input.allowFrontendAuthentication === "boolean" ? input.allowFrontendAuthentication : before.allowFrontendAuthentication,
    tokenTtlSeconds: typeof input.tokenTtlSeconds === "number" ? input.tokenTtlSeconds : before.tokenTtlSeconds,
    maxActiveSessionsPerImpersonator:
      input.maxActiveSessionsPerImpersonator === undefined ? before.maxActiveSessionsPerImpersonator : input.maxActiveSessionsPerImpersonator,
    defaultMode,
    allowReadWrite,
    requireApproval: input.requireApproval ?? before.requireApproval,
    approvalTtlMinutes: typeof input.approvalTtlMinutes === "number" ? input.approvalTtlMinutes : before.approvalTtlMinutes,
  };
}

function policyValues(policy: PolicyColumns): PolicyColumns {
  return Object.fromEntries(policyColumnNames.map((key) => [key, policy[key]])) as unknown as PolicyColumns;
}

/** The values `after` changes: only these are written (nothing at all when none is). */
function changedValues(before: PolicyColumns, after: PolicyColumns): Partial<PolicyColumns> {
  return Object.fromEntries(policyColumnNames.filter((key) => after[key] !== before[key]).map((key) => [key, after[key]])) as Partial<PolicyColumns>;
}
