import { Entity, PrimaryKey, Property } from "@mikro-orm/core";
import { newId } from "../../auth/secrets.js";

/** A single-use impersonation token, stored only as its hash. */
@Entity({ tableName: "impersonation_tokens" })
export class ImpersonationToken {
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("imptoken");

  @Property({ type: "string", length: 64, index: true })
  projectId!: string;

  @Property({ type: "string", length: 64 })
  userId!: string;

  @Property({ type: "string", length: 64, index: true })
  impersonatorId!: string;

  @Property({ type: "string", length: 320 })
  impersonatorEmail!: string;

  @Property({ type: "string", length: 500 })
  reason!: string;

  @Property({ type: "string", length: 64, unique: true })
  tokenHash!: string;

  @Property({ type: Date })
  createdAt!: Date;

  @Property({ type: Date })
  expiresAt!: Date;

  @Property({ type: Date, nullable: true })
  usedAt: Date | null = null;

  @Property({ type: Date, nullable: true })
  voidedAt: Date | null = null;
}
