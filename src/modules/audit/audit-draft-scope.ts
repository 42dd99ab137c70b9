import type { RequestContext } from "../../context.js";
import type { Sql } from "../../db/database.js";
import { clipCharacters, isPlausibleId } from "../../graphql/validation.js";
import { projectRepository } from "../projects/project.repository.js";
import type { AuditDraft } from "./audit-log.service.js";

/** The project a backend or frontend caller belongs to; null for a member (who may act on any). */
export function callerProjectOf(ctx: RequestContext): string | null {
  return ctx.actor.kind === "backend" || ctx.actor.kind === "frontend" ? ctx.actor.project.id : null;
}

/**
 * The project whose log an event about `found` (a token or session) lands in: the caller's own, or
 * else the row's. What the row says is recorded only when it belongs to that project.
 */
export function inEventProject<T extends { projectId: string }>(found: T | null, callerProject: string | null): { projectId: string | null; own: T | null } {
  const projectId = callerProject ?? found?.projectId ?? null;
  return { projectId, own: found && found.projectId === projectId ? found : null };
}

/**
 * Where the FAILURE event of a refused or failed call lands. The draft's project comes from the
 * caller's arguments, so it is not trusted: a backend or frontend records it in its own project's
 * log whatever project it named (a credential never writes into another project's chain); a member
 * in the named project's log only when that project exists, otherwise in the install-wide log (no
 * chain is ever started for a project that does not exist). A named project that is not the one
 * recorded under is kept, clipped, in the details as `requestedProjectId`.
 */
export async function failureScoped(sql: Sql, ctx: RequestContext, draft: AuditDraft): Promise<AuditDraft> {
  const named = typeof draft.projectId === "string" ? draft.projectId : null;
  const projectId = callerProjectOf(ctx) ?? (named && (await projectExists(sql, named)) ? named : null);
  if ((projectId ?? "") === (named ?? "")) return draft;
  if (named === null) return { ...draft, projectId };
  return { ...draft, projectId, details: { ...draft.details, requestedProjectId: clipCharacters(named, 64) } };
}

async function projectExists(sql: Sql, id: string): Promise<boolean> {
  return isPlausibleId(id) && (await projectRepository.findById(sql, id)) !== null;
}
