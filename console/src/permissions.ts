import { authorizationMatrix, Permission } from "../../src/auth/authorization-matrix.ts";
import type { TeamRole as ServerTeamRole } from "../../src/modules/members/team-role-values.ts";
import type { TeamRole } from "./generated/graphql.ts";

/**
 * What the console offers each role, read from the server's own matrix (SPEC §6, §9): the console
 * always calls as a member, so only the roles matter. The server stays the authority: this only
 * hides what would be refused.
 */

// The schema's roles and the server's enum are the same names; this stops compiling if they part.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameRoles: Same<TeamRole, `${ServerTeamRole}`> = true;
void sameRoles;

function allows(permission: Permission): (role: TeamRole) => boolean {
  const roles: readonly string[] = authorizationMatrix[permission].roles;
  return (role) => roles.includes(role);
}

export const can = {
  impersonate: allows(Permission.CreateImpersonationToken),
  revokeSessions: allows(Permission.RevokeSession),
  managePolicy: allows(Permission.ManagePolicy),
  manageTeam: allows(Permission.ManageTeamAndProjects),
  protectUsers: allows(Permission.ProtectUsers),
  decideApprovals: allows(Permission.DecideImpersonationRequest),
  manageWebhooks: allows(Permission.ManageWebhooks),
};
