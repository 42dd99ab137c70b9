import { registerEnumType } from "type-graphql";

export enum TeamRole {
  ADMIN = "ADMIN",
  DEVELOPER = "DEVELOPER",
  SUPPORT_MANAGER = "SUPPORT_MANAGER",
  VIEWER = "VIEWER",
}

registerEnumType(TeamRole, { name: "TeamRole", description: "A team member's role (SPEC §1)." });

/** Roles that may start an impersonation. */
export const impersonatingRoles: readonly TeamRole[] = [TeamRole.ADMIN, TeamRole.DEVELOPER, TeamRole.SUPPORT_MANAGER];

export function canImpersonate(role: TeamRole): boolean {
  return impersonatingRoles.includes(role);
}
