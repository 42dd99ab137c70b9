import type { RequestContext } from "../../context.js";
import type { AuditDraft } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";
import { callerProjectOf, inEventProject } from "../audit/audit-draft-scope.js";
import type { Session } from "./session.entity.js";

/**
 * revokeSession's audit draft, for the service and for a call the authorization matrix refused
 * (audit-denials.ts): it lands in the caller's project (or, for a member, the session's); what the
 * session says is recorded only when it belongs to that project. `found` is the session the
 * arguments name, null while unknown.
 */
export function revokeSessionDraft(ctx: RequestContext, found: Session | null): AuditDraft {
  const { projectId, own: session } = inEventProject(found, callerProjectOf(ctx));
  return {
    action: AuditAction.RevokeSession,
    projectId,
    sessionId: session?.id ?? null,
    userId: session?.userId ?? null,
    impersonatorId: session?.impersonatorId ?? null,
    impersonatorEmail: session?.impersonatorEmail ?? null,
    mode: session?.mode ?? null,
  };
}

/** The RevokeSession event of each session a kill switch revokes (`cause`: why). */
export function killSwitchRevokeDraft(session: Session, cause: string): AuditDraft {
  return {
    action: AuditAction.RevokeSession,
    projectId: session.projectId,
    userId: session.userId,
    impersonatorId: session.impersonatorId,
    impersonatorEmail: session.impersonatorEmail,
    sessionId: session.id,
    mode: session.mode,
    details: { cause },
  };
}
