import type { RequestContext } from "../../context.js";

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
