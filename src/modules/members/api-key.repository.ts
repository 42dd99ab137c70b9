import type { Sql } from "../../db/database.js";
import { ApiKey } from "./api-key.entity.js";
import { TeamMember } from "./team-member.entity.js";

/** Every statement on `member_api_keys`. */
export const apiKeyRepository = {
  /** The member an API key belongs to, by the key's hash, in one statement (the Bearer credential). */
  findMemberByKeyHash(sql: Sql, keyHash: string): Promise<TeamMember | null> {
    return sql.entity(TeamMember, "select m.* from member_api_keys k join team_members m on m.id = k.member_id where k.key_hash = ?", [keyHash]);
  },

  /** Deletes every key of a member (a rotation: the old key stops working when this commits). */
  deleteForMember(sql: Sql, memberId: string): Promise<number> {
    return sql.run("delete from member_api_keys where member_id = ?", [memberId]);
  },

  insert(sql: Sql, key: ApiKey): Promise<void> {
    return sql.insert(ApiKey, key);
  },
};
