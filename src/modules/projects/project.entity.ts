import { Entity, OptionalProps, PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";
import { ApprovalRequirement } from "../policy/approval-requirement.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";

/** How long a new project's impersonation tokens live, until its policy says otherwise. */
export const defaultTokenTtlSeconds = 300;
export const defaultApprovalTtlMinutes = 60;

@ObjectType({ description: "A company application whose end users may be impersonated." })
@Entity({ tableName: "projects" })
export class Project {
  [OptionalProps]?: "allowImpersonation" | "allowFrontendAuthentication" | "tokenTtlSeconds"
    | "maxActiveSessionsPerImpersonator"
    | "defaultMode"
    | "allowReadWrite"
    | "requireApproval"
    | "approvalTtlMinutes";

  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("project");

  @Field(() => String)
  @Property({ type: "string", length: 200 })
  name!: string;

  @Field(() => String, { description: "Where launchUrl sends the impersonator's browser." })
  @Property({ type: "string", length: 2048 })
  loginRedirectUrl!: string;

  @Property({ type: "string", length: 64, unique: true })
  secretHash!: string;

  @Property({ type: "string", length: 64, unique: true })
  publicTokenHash!: string;

  @Property({ type: "boolean" })
  allowImpersonation: boolean = false;

  @Property({ type: "boolean" })
  allowFrontendAuthentication: boolean = false;

  @Property({ type: "integer" })
  tokenTtlSeconds: number = defaultTokenTtlSeconds;

  /** At most this many active sessions per impersonator, checked at exchange time; null: no limit. */
  @Property({ type: "integer", nullable: true })
  maxActiveSessionsPerImpersonator: number | null = null;

  /** The mode of a token whose creation names none. */
  @Property({ type: "string", length: 16 })
  defaultMode: ImpersonationMode = ImpersonationMode.READ_WRITE;

  @Property({ type: "boolean" })
  allowReadWrite: boolean = true;

  @Property({ type: "string", length: 16 })
  requireApproval: ApprovalRequirement = ApprovalRequirement.PROTECTED_USERS;

  /** How long an impersonation request waits for its decision, and then for its use. */
  @Property({ type: "integer" })
  approvalTtlMinutes: number = defaultApprovalTtlMinutes;

  @Property({ type: Date })
  createdAt!: Date;
}
