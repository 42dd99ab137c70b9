import type { TeamMember } from "../modules/members/team-member.entity.js";
import type { Project } from "../modules/projects/project.entity.js";

/** Who is calling, as established from the request's credential (SPEC §1). */
export type Actor =
  | { kind: "anonymous" }
  /** A credential was presented but matched nothing (or a disabled member's key). */
  | { kind: "invalid" }
  /** `apiKeyHash`: the key it presented (a live subscription ends when that key is rotated). */
  | { kind: "member"; member: TeamMember; apiKeyHash?: string }
  | { kind: "backend"; project: Project }
  | { kind: "frontend"; project: Project };

export type AuthenticatedActor = Extract<Actor, { kind: "member" | "backend" | "frontend" }>;

export function isAuthenticated(actor: Actor): actor is AuthenticatedActor {
  return actor.kind === "member" || actor.kind === "backend" || actor.kind === "frontend";
}

/** An operator at the server's own command line (`npm run admin`): no credential, no id. */
export type CliActor = { kind: "cli" };

/** Whom an audit event names as its caller: an authenticated actor, or the command line. */
export type AuditedActor = AuthenticatedActor | CliActor;

export function actorType(actor: AuditedActor): string {
  return actor.kind;
}

export function actorId(actor: AuditedActor): string | null {
  if (actor.kind === "cli") return null;
  return actor.kind === "member" ? actor.member.id : actor.project.id;
}
