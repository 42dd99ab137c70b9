import type { AuditDraft } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";

/*
 * The drafts of user changes, for the service and for a call the authorization matrix refused
 * (audit-denials.ts): each lands in the user's project's log.
 */

/**
 * updateUser; the service adds the old and new `protected` and `externalId` (so that moving an
 * external id from one user to another can be traced), which fields changed, and how many sessions
 * protecting the user revoked.
 */
export function updateUserDraft(projectId: unknown, id: unknown): AuditDraft {
  return {
    action: AuditAction.UpdateUser,
    projectId: typeof projectId === "string" ? projectId : null,
    userId: typeof id === "string" ? id : null,
  };
}
