import type { Sql } from "../../db/database.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import type { TeamMember } from "../members/team-member.entity.js";
import { teamMemberRepository } from "../members/team-member.repository.js";
import { canImpersonate, impersonatingRoles } from "../members/team-role.js";
import { approvalRequired } from "../policy/approval-requirement.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";
import type { Project } from "../projects/project.entity.js";
import { sessionRepository } from "../sessions/session.repository.js";
import type { User } from "../users/user.entity.js";

/**
 * The policy's rules for one impersonation, written once: token creation, request creation, the
 * exchange and `impersonationCheck` (which must answer what the real calls would) all call these.
 * Each throws the contract code its call gets.
 */

/** The mode an impersonation gets: the one asked for, else the policy's default; READ_WRITE only where allowed. */
export function resolveMode(project: Project, asked: ImpersonationMode | null | undefined): ImpersonationMode {
  const mode = asked ?? project.defaultMode;
  assertModeAllowed(project, mode);
  return mode;
}

export function assertModeAllowed(project: Project, mode: ImpersonationMode): void {
  if (mode === ImpersonationMode.READ_WRITE && !project.allowReadWrite) {
    throw new AppError(ErrorCode.FORBIDDEN, "This project's policy allows READ_ONLY impersonation only.");
  }
}

export function assertImpersonationAllowed(project: Project): void {
  if (!project.allowImpersonation) throw new AppError(ErrorCode.IMPERSONATION_DISABLED);
}

/** Without an approved request behind it, an impersonation that needs one is refused. */
export function assertApproved(project: Project, user: User, approved: boolean): void {
  if (!approved && approvalRequired(project.requireApproval, user)) {
    throw new AppError(
      ErrorCode.APPROVAL_REQUIRED,
      user.protected ? "This user is protected: impersonating it needs an ADMIN's approval (requestImpersonation)." : "This project's policy requires an ADMIN's approval first (requestImpersonation).",
    );
  }
}

/**
 * Inside a transaction about to write a token or a request for `memberId`: the member may still
 * impersonate, and stays so until commit (its row is held; see `holdIfEnabledAs`). The caller
 * was authenticated before the transaction, possibly before a kill switch committed.
 */
export async function holdImpersonator(sql: Sql, memberId: string): Promise<void> {
  if (!(await teamMemberRepository.holdIfEnabledAs(sql, memberId, impersonatingRoles))) {
    throw new AppError(ErrorCode.FORBIDDEN, "The impersonator may no longer impersonate.");
  }
}

export function assertMayStillImpersonate(impersonator: TeamMember | null): asserts impersonator is TeamMember {
  if (!impersonator || impersonator.disabled || !canImpersonate(impersonator.role)) {
    throw new AppError(ErrorCode.FORBIDDEN, "The impersonator may no longer impersonate.");
  }
}

/**
 * The session limit, counted inside the exchange's transaction, which holds the project's chain lock
 * (taken first by `audited`): concurrent exchanges in a project count one after another.
 */
export async function assertUnderSessionLimit(sql: Sql, project: Project, impersonatorId: string, now: Date): Promise<void> {
  const limit = project.maxActiveSessionsPerImpersonator;
  if (limit !== null && limit !== undefined && (await sessionRepository.countActiveFor(sql, project.id, impersonatorId, now)) >= limit) {
    throw new AppError(ErrorCode.IMPERSONATION_LIMIT_REACHED);
  }
}

/**
 * What an exchange re-checks of the impersonator and the policy, once the policy is known to allow
 * impersonation (`assertImpersonationAllowed`, which the exchange checks before the token's state).
 */
export async function assertExchangeAllowed(
  sql: Sql,
  subject: { project: Project; impersonator: TeamMember | null; user: User; mode: ImpersonationMode; approved: boolean },
  now: Date,
): Promise<void> {
  assertMayStillImpersonate(subject.impersonator);
  // Protected (or approval required) since the token was created: refused, the token stays unused.
  assertApproved(subject.project, subject.user, subject.approved);
  assertModeAllowed(subject.project, subject.mode);
  await assertUnderSessionLimit(sql, subject.project, subject.impersonator.id, now);
}
