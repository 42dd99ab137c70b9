import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import type { Project } from "../projects/project.entity.js";
import { ApprovalRequirement } from "./approval-requirement.js";
import { ImpersonationMode } from "./impersonation-mode.js";

/** Impersonated sessions last exactly this long and are never extended. */
export const sessionDurationMinutes = 60;
export const tokenTtlBounds = { min: 30, max: 3600 } as const;
export const maxActiveSessionsBounds = { min: 1, max: 100 } as const;
export const approvalTtlBounds = { min: 5, max: 1440 } as const;

/** The project columns a policy is made of. */
export type PolicySource = Pick<
  Project,
  | "id"
  | "allowImpersonation"
  | "allowFrontendAuthentication"
  | "tokenTtlSeconds"
  | "maxActiveSessionsPerImpersonator"
  | "defaultMode"
  | "allowReadWrite"
  | "requireApproval"
  | "approvalTtlMinutes"
>;

@ObjectType({ description: "A project's impersonation policy: off until an ADMIN turns it on." })
export class ImpersonationPolicy {
  @Field(() => ID)
  projectId!: string;

  @Field(() => Boolean)
  allowImpersonation!: boolean;

  @Field(() => Boolean, { description: "Lets the browser exchange a token with the public token." })
  allowFrontendAuthentication!: boolean;

  @Field(() => Int)
  tokenTtlSeconds!: number;

  @Field(() => Int, { nullable: true, description: "At most this many active sessions per impersonator, checked when a token is exchanged; null: no limit." })
  maxActiveSessionsPerImpersonator!: number | null;

  @Field(() => ImpersonationMode, { description: "The mode of a token whose creation names none." })
  defaultMode!: ImpersonationMode;

  @Field(() => Boolean, { description: "false: READ_WRITE impersonations are refused (FORBIDDEN)." })
  allowReadWrite!: boolean;

  @Field(() => ApprovalRequirement, { description: "Which impersonations need another ADMIN's approval; protected users always do." })
  requireApproval!: ApprovalRequirement;

  @Field(() => Int, { description: "How long a request stays open for its decision and its use (5 to 1440)." })
  approvalTtlMinutes!: number;

  @Field(() => Int, { description: "Always 60; read-only." })
  sessionDurationMinutes!: number;

  static of(project: PolicySource): ImpersonationPolicy {
    return Object.assign(new ImpersonationPolicy(), {
      projectId: project.id,
      allowImpersonation: project.allowImpersonation,
      allowFrontendAuthentication: project.allowFrontendAuthentication,
      tokenTtlSeconds: project.tokenTtlSeconds,
      maxActiveSessionsPerImpersonator: project.maxActiveSessionsPerImpersonator ?? null,
      defaultMode: project.defaultMode,
      allowReadWrite: project.allowReadWrite,
      requireApproval: project.requireApproval,
      approvalTtlMinutes: project.approvalTtlMinutes,
      sessionDurationMinutes,
    });
  }
}

@InputType()
export class ImpersonationPolicyInput {
  @Field(() => Boolean, { nullable: true })
  allowImpersonation?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  allowFrontendAuthentication?: boolean | null;

  @Field(() => Int, { nullable: true, description: "30 to 3600." })
  tokenTtlSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: "1 to 100; an explicit null removes the limit, absent leaves it." })
  maxActiveSessionsPerImpersonator?: number | null;

  @Field(() => ImpersonationMode, { nullable: true, description: "With allowReadWrite false it must be READ_ONLY (which it becomes when not given)." })
  defaultMode?: ImpersonationMode | null;

  @Field(() => Boolean, { nullable: true })
  allowReadWrite?: boolean | null;

  @Field(() => ApprovalRequirement, { nullable: true })
  requireApproval?: ApprovalRequirement | null;

  @Field(() => Int, { nullable: true, description: "5 to 1440." })
  approvalTtlMinutes?: number | null;
}
