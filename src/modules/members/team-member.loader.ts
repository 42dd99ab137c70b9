import type { EntityManager } from "@mikro-orm/core";
import DataLoader from "dataloader";
import { TeamMember } from "./team-member.entity.js";

/** Per-request batch loader: one SELECT for all members a response mentions. */
export function createTeamMemberLoader(em: EntityManager): DataLoader<string, TeamMember | null> {
  return new DataLoader(async (ids) => {
    const rows = await em.find(TeamMember, { id: { $in: [...ids] } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
