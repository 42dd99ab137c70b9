import { hashSecret } from "../../auth/secrets.js";
import type { RequestContext } from "../../context.js";
import type { Sql } from "../../db/database.js";
import { isPlausibleId } from "../../graphql/validation.js";
import { createMemberDraft, rotateMemberKeyDraft, updateMemberDraft } from "../members/team-member.audit.js";
import { setPolicyDraft } from "../policy/policy.audit.js";
import { rotateProjectSecretDraft, rotatePublicTokenDraft, updateProjectDraft } from "../projects/project.audit.js";
import { updateUserDraft } from "../users/user.audit.js";
import { revokeSessionDraft } from "../sessions/session.audit.js";
import { sessionRepository } from "../sessions/session.repository.js";
import { impersonationTokenRepository } from "../tokens/impersonation-token.repository.js";
import { authenticateTokenDraft, createTokenDraft } from "../tokens/token.audit.js";
import { maxTokenLength } from "../tokens/token.service.js";
import { decideRequestDraft, requestImpersonationDraft } from "../approvals/approval.audit.js";
import { impersonationRequestRepository } from "../approvals/impersonation-request.repository.js";
import type { AuditDraft } from "./audit-log.service.js";
import { AuditAction } from "./audit-status.js";

type Args = Record<string, unknown>;

/**
 * The audited mutations, by field name, each with its module's own draft builder (the one its
 * service uses). A refused token, session or request call looks the row up, so that a member's
 * attempt lands in that project's log. The project a draft names here is only what the arguments
 * say: AuditLog.recordFailure decides the log (`failureScoped`: the caller's own project for a
 * backend or frontend, an existing project or the install-wide log for a member).
 */
const deniedDrafts = new Map<string, (ctx: RequestContext, args: Args, sql: Sql) => AuditDraft | Promise<AuditDraft>>([
  ["setImpersonationPolicy", (_ctx, args) => setPolicyDraft(args.projectId)],
  ["createTeamMember", (_ctx, args) => createMemberDraft(args.input)],
  ["updateTeamMember", (_ctx, args) => updateMemberDraft(args.id)],
  ["rotateTeamMemberApiKey", (_ctx, args) => rotateMemberKeyDraft(args.id)],
  ["updateProject", (_ctx, args) => updateProjectDraft(args.id)],
  ["rotateProjectSecret", (_ctx, args) => rotateProjectSecretDraft(args.projectId)],
  ["rotatePublicToken", (_ctx, args) => rotatePublicTokenDraft(args.projectId)],
  ["updateUser", (_ctx, args) => updateUserDraft(args.projectId, args.id)],
  ["createImpersonationToken", (ctx, args) => createTokenDraft(ctx, (args.input ?? {}) as Args)],
  [
    "authenticateImpersonationToken",
    async (ctx, { token }, sql) =>
      authenticateTokenDraft(
        ctx,
        typeof token === "string" && token && token.length <= maxTokenLength ? await impersonationTokenRepository.findByHash(sql, hashSecret(token)) : null,
      ),
  ],
  ["requestImpersonation", (ctx, args) => requestImpersonationDraft(ctx, (args.input ?? {}) as Args)],
  [
    "approveImpersonationRequest",
    async (ctx, { id }, sql) =>
      decideRequestDraft(ctx, AuditAction.ApproveImpersonationRequest, typeof id === "string" && isPlausibleId(id) ? await impersonationRequestRepository.findById(sql, id) : null, id),
  ],
  [
    "denyImpersonationRequest",
    async (ctx, { id }, sql) =>
      decideRequestDraft(ctx, AuditAction.DenyImpersonationRequest, typeof id === "string" && isPlausibleId(id) ? await impersonationRequestRepository.findById(sql, id) : null, id),
  ],
  [
    "revokeSession",
    async (ctx, { sessionId }, sql) =>
      revokeSessionDraft(ctx, typeof sessionId === "string" && isPlausibleId(sessionId) ? await sessionRepository.find(sql, { id: sessionId }) : null),
  ],
]);

/**
 * The audit draft for an audited mutation that the authorization matrix refused, or null when the
 * field is not audited. `sql`: statements outside any transaction.
 */
export async function deniedCallDraft(ctx: RequestContext, sql: Sql, fieldName: string, args: Args): Promise<AuditDraft | null> {
  const draft = deniedDrafts.get(fieldName);
  return draft ? draft(ctx, args, sql) : null;
}
