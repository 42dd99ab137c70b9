import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { ImpersonationPolicy, ImpersonationPolicyInput } from "./policy.types.js";

@Resolver()
export class PolicyResolver {
  @Authorized(Permission.ReadPolicy)
  @Query(() => ImpersonationPolicy)
  impersonationPolicy(@Arg("projectId", () => ID) projectId: string, @Ctx() ctx: RequestContext): Promise<ImpersonationPolicy> {
    return ctx.services.policy.get(ctx, projectId);
  }

  @Authorized(Permission.ManagePolicy)
  @Mutation(() => ImpersonationPolicy)
  setImpersonationPolicy(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("input", () => ImpersonationPolicyInput) input: ImpersonationPolicyInput,
    @Ctx() ctx: RequestContext,
  ): Promise<ImpersonationPolicy> {
    return ctx.services.policy.set(ctx, projectId, input);
  }
}
