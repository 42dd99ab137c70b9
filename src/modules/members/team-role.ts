import { registerEnumType } from "type-graphql";
import { authorizationMatrix, Permission } from "../../auth/authorization-matrix.js";
import { TeamRole } from "./team-role-values.js";

export { TeamRole };

registerEnumType(TeamRole, { name: "TeamRole", description: "A team member's role (SPEC §1)." });

/** Roles that may start an impersonation: the matrix's createImpersonationToken row. */
export const impersonatingRoles: readonly TeamRole[] = authorizationMatrix[Permission.CreateImpersonationToken].roles;

export function canImpersonate(role: TeamRole): boolean {
  return impersonatingRoles.includes(role);
}
