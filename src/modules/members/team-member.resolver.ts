import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { TeamMember } from "./team-member.entity.js";
import { CreateTeamMemberInput, CreateTeamMemberPayload, UpdateTeamMemberInput } from "./team-member.types.js";

@Resolver(() => TeamMember)
export class TeamMemberResolver {
  @Authorized(Permission.ManageTeamAndProjects)
  @Mutation(() => CreateTeamMemberPayload)
  createTeamMember(@Arg("input", () => CreateTeamMemberInput) input: CreateTeamMemberInput, @Ctx() ctx: RequestContext): Promise<CreateTeamMemberPayload> {
    return ctx.services.members.create(input);
  }

  @Authorized(Permission.ManageTeamAndProjects)
  @Mutation(() => TeamMember)
  updateTeamMember(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateTeamMemberInput) input: UpdateTeamMemberInput,
    @Ctx() ctx: RequestContext,
  ): Promise<TeamMember> {
    return ctx.services.members.update(ctx, id, input);
  }

  @Authorized(Permission.ReadTeamAndProjects)
  @Query(() => TeamMember, { description: "The calling team member." })
  me(@Ctx() ctx: RequestContext): TeamMember {
    if (ctx.actor.kind !== "member") throw new Error("unreachable: authorized for members only");
    return ctx.actor.member;
  }
}
