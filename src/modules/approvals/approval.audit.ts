import type { RequestContext } from "../../context.js";
import type { AuditDraft } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";
import { callerProjectOf, inEventProject } from "../audit/audit-draft-scope.js";
import { createTokenDraft } from "../tokens/token.audit.js";
import type { ImpersonationRequest } from "./impersonation-request.entity.js";

/**
 * The audit drafts of the approval mutations, for the service and for a call the authorization
 * matrix refused (audit-denials.ts): arguments are untrusted there, and anything not a string is
 * recorded as null. The event's impersonator is the requester (who would impersonate); its actor
 * is the caller (the requester, or the deciding ADMIN).
 */

/** requestImpersonation: what the member asked for, as token creation records it. */
export function requestImpersonationDraft(ctx: RequestContext, input: { projectId?: unknown; userId?: unknown; reason?: unknown; mode?: unknown }): AuditDraft {
  return { ...createTokenDraft(ctx, input), action: AuditAction.RequestImpersonation, impersonationRequestId: null };
}

/**
 * approve/denyImpersonationRequest: about the request `found` (null while unknown), in its
 * project's log, or for a backend or frontend caller (always refused) in the caller's own, where
 * what another project's request says is not recorded.
 */
export function decideRequestDraft(
  ctx: RequestContext,
  action: typeof AuditAction.ApproveImpersonationRequest | typeof AuditAction.DenyImpersonationRequest,
  found: ImpersonationRequest | null,
  requestId: unknown,
): AuditDraft {
  const { projectId, own: request } = inEventProject(found, callerProjectOf(ctx));
  return {
    action,
    projectId,
    userId: request?.userId ?? null,
    impersonatorId: request?.requesterId ?? null,
    impersonatorEmail: request?.requesterEmail ?? null,
    reason: request?.reason ?? null,
    mode: request?.mode ?? null,
    impersonationRequestId: request?.id ?? text(requestId),
  };
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
