import type { TeamRole } from "../../test/__generated__/graphql.ts";

/**
 * What the console offers each role, read from SPEC §6. The server stays the authority: this only
 * hides what would be refused.
 */
const impersonators: readonly TeamRole[] = ["ADMIN", "DEVELOPER", "SUPPORT_MANAGER"];

export const can = {
  impersonate: (role: TeamRole) => impersonators.includes(role),
  revokeSessions: (role: TeamRole) => impersonators.includes(role),
  managePolicy: (role: TeamRole) => role === "ADMIN",
  manageTeam: (role: TeamRole) => role === "ADMIN",
  decideApprovals: (role: TeamRole) => role === "ADMIN",
  manageWebhooks: (role: TeamRole) => role === "ADMIN" || role === "DEVELOPER",
};
