import type { TeamRole } from "../modules/members/team-role-values.js";
import { authorizationMatrix, Permission } from "./authorization-matrix.js";

export { authorizationMatrix, Permission, type Grant } from "./authorization-matrix.js";

export type Decision = "allow" | "unauthenticated" | "forbidden";

/** The pure check of the matrix: who the caller is against what the operation allows. */
export function decide(
  actor: { kind: string; member?: { role: TeamRole } },
  permission: Permission,
): Decision {
  const grant = authorizationMatrix[permission];
  switch (actor.kind) {
    case "member":
      return grant.roles.includes(actor.member!.role) ? "allow" : "forbidden";
    case "backend":
      return grant.backend ? "allow" : "forbidden";
    case "frontend":
      return grant.frontend ? "allow" : "forbidden";
    default:
      return "unauthenticated";
  }
}
