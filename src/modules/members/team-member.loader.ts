import type DataLoader from "dataloader";
import { createByIdLoader } from "../../db/batch-loader.js";
import type { Database } from "../../db/database.js";
import type { TeamMember } from "./team-member.entity.js";
import { teamMemberRepository } from "./team-member.repository.js";

/** Per-request batch loader: one SELECT for all members a response mentions. */
export function createTeamMemberLoader(db: Database): DataLoader<string, TeamMember | null> {
  return createByIdLoader((ids) => teamMemberRepository.findByIds(db.sql, ids));
}
