import type DataLoader from "dataloader";
import { createByIdLoader } from "../../db/batch-loader.js";
import type { Database } from "../../db/database.js";
import { TeamMember } from "./team-member.entity.js";

/** Per-request batch loader: one SELECT for all members a response mentions. */
export function createTeamMemberLoader(db: Database): DataLoader<string, TeamMember | null> {
  return createByIdLoader(db, TeamMember, "team_members");
}
