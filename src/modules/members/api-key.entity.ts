import { Entity, PrimaryKey, Property } from "@mikro-orm/core";
import { newId } from "../../auth/secrets.js";

/** A member's API key, stored only as its SHA-256 hash. */
@Entity({ tableName: "member_api_keys" })
export class ApiKey {
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("key");

  @Property({ type: "string", length: 64, index: true })
  memberId!: string;

  @Property({ type: "string", length: 64, unique: true })
  keyHash!: string;

  @Property({ type: Date })
  createdAt!: Date;
}
