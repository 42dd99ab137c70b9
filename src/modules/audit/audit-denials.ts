import { hashSecret } from "../../auth/secrets.js";
import type { RequestContext } from "../../context.js";
import { isPlausibleId } from "../../graphql/validation.js";
import { Session } from "../sessions/session.entity.js";
import { ImpersonationToken } from "../tokens/impersonation-token.entity.js";
import type { AuditDraft } from "./audit-log.service.js";
import { AuditAction } from "./audit-status.js";

type Args = Record<string, unknown>;

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

/**
 * The audit draft for an audited mutation that the authorization matrix refused, or null when the
 * field is not audited. Looks up the project a token or session belongs to, so that a refused
 * attempt lands in that project's log.
 */
export async function deniedCallDraft(ctx: RequestContext, fieldName: string, args: Args): Promise<AuditDraft | null> {
  const member = ctx.actor.kind === "member" ? ctx.actor.member : null;
  const callerProject = ctx.actor.kind === "backend" || ctx.actor.kind === "frontend" ? ctx.actor.project.id : null;
  switch (fieldName) {
    case "setImpersonationPolicy":
      return { action: AuditAction.SetImpersonationPolicy, projectId: str(args.projectId) };
    case "createImpersonationToken": {
      const input = (args.input ?? {}) as Args;
      return {
        action: AuditAction.CreateImpersonationToken,
        projectId: str(input.projectId),
        userId: str(input.userId),
        reason: str(input.reason)?.trim() || null,
        impersonatorId: member?.id ?? null,
        impersonatorEmail: member?.email ?? null,
      };
    }
    case "authenticateImpersonationToken": {
      const token = str(args.token);
      const found = token && token.length <= 256 ? await ctx.em.findOne(ImpersonationToken, { tokenHash: hashSecret(token) }) : null;
      const { projectId, own: row } = inEventProject(found, callerProject);
      return {
        action: AuditAction.AuthenticateImpersonationToken,
        projectId,
        userId: row?.userId ?? null,
        impersonatorId: row?.impersonatorId ?? null,
        impersonatorEmail: row?.impersonatorEmail ?? null,
        reason: row?.reason ?? null,
      };
    }
    case "revokeSession": {
      const sessionId = str(args.sessionId);
      const found = sessionId && isPlausibleId(sessionId) ? await ctx.em.findOne(Session, { id: sessionId }) : null;
      const { projectId, own: session } = inEventProject(found, callerProject);
      return {
        action: AuditAction.RevokeSession,
        projectId,
        sessionId: session?.id ?? null,
        userId: session?.userId ?? null,
        impersonatorId: session?.impersonatorId ?? null,
        impersonatorEmail: session?.impersonatorEmail ?? null,
      };
    }
    default:
      return null;
  }
}

/**
 * The project whose log a refused call about `found` (a token or session) lands in: the caller's
 * own, or else the row's. What the row says is recorded only when it belongs to that project.
 */
function inEventProject<T extends { projectId: string }>(found: T | null, callerProject: string | null): { projectId: string | null; own: T | null } {
  const projectId = callerProject ?? found?.projectId ?? null;
  return { projectId, own: found && found.projectId === projectId ? found : null };
}
