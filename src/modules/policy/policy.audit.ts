import type { AuditDraft } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";

/**
 * setImpersonationPolicy's audit draft, for the service and for a call the authorization matrix
 * refused (audit-denials.ts); the service adds the old and new values to its details.
 */
export function setPolicyDraft(projectId: unknown): AuditDraft {
  return { action: AuditAction.SetImpersonationPolicy, projectId: typeof projectId === "string" ? projectId : null };
}
