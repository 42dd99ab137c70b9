import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import type { Project } from "../projects/project.entity.js";

/** Impersonated sessions last exactly this long and are never extended. */
export const sessionDurationMinutes = 60;
export const tokenTtlBounds = { min: 30, max: 3600 } as const;
export const maxActiveSessionsBounds = { min: 1, max: 100 } as const;

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

  @Field(() => Int, { description: "Always 60; read-only." })
  sessionDurationMinutes!: number;

  static of(
    project: Pick<Project, "id" | "allowImpersonation" | "allowFrontendAuthentication" | "tokenTtlSeconds" | "maxActiveSessionsPerImpersonator">,
  ): ImpersonationPolicy {
    return Object.assign(new ImpersonationPolicy(), {
      projectId: project.id,
      allowImpersonation: project.allowImpersonation,
      allowFrontendAuthentication: project.allowFrontendAuthentication,
      tokenTtlSeconds: project.tokenTtlSeconds,
      maxActiveSessionsPerImpersonator: project.maxActiveSessionsPerImpersonator ?? null,
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
}
