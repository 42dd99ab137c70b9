import type { AuditDraft } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";

/*
 * The drafts of project changes, for the service and for a call the authorization matrix refused
 * (audit-denials.ts): each lands in that project's log. Details say which credential was replaced,
 * never its value.
 */

function projectOf(id: unknown): string | null {
  return typeof id === "string" ? id : null;
}

/** updateProject; the service adds the old and new name and login redirect URL. */
export function updateProjectDraft(id: unknown): AuditDraft {
  return { action: AuditAction.UpdateProject, projectId: projectOf(id) };
}

export function rotateProjectSecretDraft(projectId: unknown): AuditDraft {
  return { action: AuditAction.RotateProjectSecret, projectId: projectOf(projectId), details: { credential: "secret" } };
}

export function rotatePublicTokenDraft(projectId: unknown): AuditDraft {
  return { action: AuditAction.RotatePublicToken, projectId: projectOf(projectId), details: { credential: "publicToken" } };
}
