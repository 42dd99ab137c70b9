import { Entity, OptionalProps, PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";
import { ApprovalRequirement } from "../policy/approval-requirement.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";

/** A new project's impersonation policy: off, until an ADMIN says otherwise (SPEC §4.1, §9). */
export const newProjectPolicy = {
  allowImpersonation: false,
  allowFrontendAuthentication: false,
  tokenTtlSeconds: 300,
  maxActiveSessionsPerImpersonator: null,
  defaultMode: ImpersonationMode.READ_WRITE,
  allowReadWrite: true,
  requireApproval: ApprovalRequirement.PROTECTED_USERS,
  approvalTtlMinutes: 60,
} as const;

@ObjectType({ description: "A company application whose end users may be impersonated." })
@Entity({ tableName: "projects" })
export class Project {
  [OptionalProps]?: keyof typeof newProjectPolicy;

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
  allowImpersonation: boolean = newProjectPolicy.allowImpersonation;

  @Property({ type: "boolean" })
  allowFrontendAuthentication: boolean = newProjectPolicy.allowFrontendAuthentication;

  @Property({ type: "integer" })
  tokenTtlSeconds: number = newProjectPolicy.tokenTtlSeconds;

  /** At most this many active sessions per impersonator, checked at exchange time; null: no limit. */
  @Property({ type: "integer", nullable: true })
  maxActiveSessionsPerImpersonator: number | null = newProjectPolicy.maxActiveSessionsPerImpersonator;

  /** The mode of a token whose creation names none. */
  @Property({ type: "string", length: 16 })
  defaultMode: ImpersonationMode = newProjectPolicy.defaultMode;

  @Property({ type: "boolean" })
  allowReadWrite: boolean = newProjectPolicy.allowReadWrite;

  @Property({ type: "string", length: 16 })
  requireApproval: ApprovalRequirement = newProjectPolicy.requireApproval;

  /** How long an impersonation request waits for its decision, and then for its use. */
  @Property({ type: "integer" })
  approvalTtlMinutes: number = newProjectPolicy.approvalTtlMinutes;

  @Property({ type: Date })
  createdAt!: Date;
}
