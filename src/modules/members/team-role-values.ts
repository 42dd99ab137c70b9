/**
 * A team member's role (SPEC §1), as plain values with no imports and no side effects, so the
 * staff console's bundle can share it with the server (console/src/permissions.ts). The server
 * registers it with GraphQL in team-role.ts.
 */
export enum TeamRole {
  ADMIN = "ADMIN",
  DEVELOPER = "DEVELOPER",
  SUPPORT_MANAGER = "SUPPORT_MANAGER",
  VIEWER = "VIEWER",
}
