import type { TeamMember } from "../modules/members/team-member.entity.js";
import type { Project } from "../modules/projects/project.entity.js";

/** Who is calling, as established from the request's credential (SPEC §1). */
export type Actor =
  | { kind: "anonymous" }
  /** A credential was presented but matched nothing (or a disabled member's key). */
  | { kind: "invalid" }
  | { kind: "member"; member: TeamMember }
  | { kind: "backend"; project: Project }
  | { kind: "frontend"; project: Project };

export type AuthenticatedActor = Extract<Actor, { kind: "member" | "backend" | "frontend" }>;

export function isAuthenticated(actor: Actor): actor is AuthenticatedActor {
  return actor.kind === "member" || actor.kind === "backend" || actor.kind === "frontend";
}

export function actorType(actor: AuthenticatedActor): string {
  return actor.kind;
}

export function actorId(actor: AuthenticatedActor): string {
  return actor.kind === "member" ? actor.member.id : actor.project.id;
}
