import type DataLoader from "dataloader";
import { createByIdLoader } from "../../db/batch-loader.js";
import type { SqlDatabase } from "../../db/sql.js";
import { TeamMember } from "./team-member.entity.js";

/** Per-request batch loader: one SELECT for all members a response mentions. */
export function createTeamMemberLoader(db: SqlDatabase): DataLoader<string, TeamMember | null> {
  return createByIdLoader(db, TeamMember, "team_members");
}
