import type { RequestContext } from "../../context.js";
import { clipCharacters } from "../../graphql/validation.js";
import type { AuditDraft } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";
import { callerProjectOf, inEventProject } from "../audit/audit-draft-scope.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";
import type { ImpersonationToken } from "./impersonation-token.entity.js";

/**
 * The audit drafts of the token mutations: one definition each, for the service and for a call the
 * authorization matrix refused (audit-denials.ts). Arguments are untrusted there: anything not a
 * string is recorded as null.
 */

/** createImpersonationToken: what the caller asked for, and who asked. */
export function createTokenDraft(
  ctx: RequestContext,
  input: { projectId?: unknown; userId?: unknown; reason?: unknown; mode?: unknown; requestId?: unknown },
): AuditDraft {
  const member = ctx.actor.kind === "member" ? ctx.actor.member : null;
  return {
    action: AuditAction.CreateImpersonationToken,
    projectId: text(input.projectId),
    userId: text(input.userId),
    impersonatorId: member?.id ?? null,
    impersonatorEmail: member?.email ?? null,
    reason: typeof input.reason === "string" ? clipCharacters(input.reason.trim(), 500) || null : null,
    mode: modeOrNull(input.mode),
    impersonationRequestId: text(input.requestId),
  };
}

/**
 * authenticateImpersonationToken: lands in the caller's project (or, for a caller without one, the
 * token's); what the token says is recorded only when it belongs to that project. `found` is the
 * token the presented value names, null while unknown.
 */
export function authenticateTokenDraft(ctx: RequestContext, found: ImpersonationToken | null): AuditDraft {
  const { projectId, own: token } = inEventProject(found, callerProjectOf(ctx));
  return {
    action: AuditAction.AuthenticateImpersonationToken,
    projectId,
    userId: token?.userId ?? null,
    impersonatorId: token?.impersonatorId ?? null,
    impersonatorEmail: token?.impersonatorEmail ?? null,
    reason: token?.reason ?? null,
    mode: token?.mode ?? null,
    impersonationRequestId: token?.impersonationRequestId ?? null,
  };
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** An untrusted argument as a mode, or null. */
export function modeOrNull(value: unknown): ImpersonationMode | null {
  return Object.values(ImpersonationMode).includes(value as ImpersonationMode) ? (value as ImpersonationMode) : null;
}
