import type { RequestContext } from "../../context.js";
import { clipCharacters } from "../../graphql/validation.js";
import type { AuditDraft } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";
import { callerProjectOf, inEventProject } from "../audit/audit-draft-scope.js";
import type { ImpersonationToken } from "./impersonation-token.entity.js";

/**
 * The audit drafts of the token mutations: one definition each, for the service and for a call the
 * authorization matrix refused (audit-denials.ts). Arguments are untrusted there: anything not a
 * string is recorded as null.
 */

/** createImpersonationToken: what the caller asked for, and who asked. */
export function createTokenDraft(ctx: RequestContext, input: { projectId?: unknown; userId?: unknown; reason?: unknown }): AuditDraft {
  const member = ctx.actor.kind === "member" ? ctx.actor.member : null;
  return {
    action: AuditAction.CreateImpersonationToken,
    projectId: text(input.projectId),
    userId: text(input.userId),
    impersonatorId: member?.id ?? null,
    impersonatorEmail: member?.email ?? null,
    reason: typeof input.reason === "string" ? clipCharacters(input.reason.trim(), 500) || null : null,
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
  };
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
