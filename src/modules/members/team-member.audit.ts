import type { AuditDraft } from "../audit/audit-log.service.js";
import { AuditAction } from "../audit/audit-status.js";

/*
 * The drafts of member changes, for the service and for a call the authorization matrix refused
 * (audit-denials.ts). No project is affected: they land in the install-wide log (no projectId).
 * Details name the member and what changed, never a key.
 */

function idOf(value: unknown): string | null {
  return typeof value === "string" ? value.slice(0, 64) : null;
}

/** createTeamMember: the new member's email and role (its id once known). */
export function createMemberDraft(input: unknown): AuditDraft {
  const { email, role } = (input ?? {}) as { email?: unknown; role?: unknown };
  return {
    action: AuditAction.CreateTeamMember,
    details: { email: typeof email === "string" ? email.slice(0, 320) : null, role: typeof role === "string" ? role : null },
  };
}

/** updateTeamMember: the member; the service adds the old and new role and disabled flag. */
export function updateMemberDraft(id: unknown): AuditDraft {
  return { action: AuditAction.UpdateTeamMember, details: { memberId: idOf(id) } };
}

/** rotateTeamMemberApiKey (and `npm run admin -- reset-key`): the member whose key was replaced. */
export function rotateMemberKeyDraft(id: unknown): AuditDraft {
  return { action: AuditAction.RotateTeamMemberApiKey, details: { memberId: idOf(id), credential: "apiKey" } };
}
