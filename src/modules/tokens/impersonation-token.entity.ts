import { Entity, PrimaryKey, Property } from "@mikro-orm/core";
import { newId } from "../../auth/secrets.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";

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

  /** Rows from before modes existed were READ_WRITE: how the hosted platforms behave. */
  @Property({ type: "string", length: 16, default: ImpersonationMode.READ_WRITE })
  mode!: ImpersonationMode;

  /** The approved request this token was created from, if any (it is used once). */
  @Property({ type: "string", length: 64, nullable: true })
  impersonationRequestId: string | null = null;

  @Property({ type: Date })
  createdAt!: Date;

  @Property({ type: Date })
  expiresAt!: Date;

  @Property({ type: Date, nullable: true })
  usedAt: Date | null = null;

  @Property({ type: Date, nullable: true })
  voidedAt: Date | null = null;
}
