import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { Connection } from "../../graphql/connection.js";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { TeamMember } from "./team-member.entity.js";
import {
  CreateTeamMemberInput,
  CreateTeamMemberPayload,
  RotateTeamMemberApiKeyPayload,
  TeamMemberConnection,
  UpdateTeamMemberInput,
} from "./team-member.types.js";

@Resolver(() => TeamMember)
export class TeamMemberResolver {
  @Authorized(Permission.ManageTeamAndProjects)
  @Mutation(() => CreateTeamMemberPayload)
  createTeamMember(@Arg("input", () => CreateTeamMemberInput) input: CreateTeamMemberInput, @Ctx() ctx: RequestContext): Promise<CreateTeamMemberPayload> {
    return ctx.services.members.createAudited(ctx, input);
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

  @Authorized(Permission.RotateApiKey)
  @Mutation(() => RotateTeamMemberApiKeyPayload, { description: "A new API key for a member (its own, or any for an ADMIN); the old one stops working at once." })
  rotateTeamMemberApiKey(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<RotateTeamMemberApiKeyPayload> {
    return ctx.services.members.rotateApiKey(ctx, id);
  }

  @Authorized(Permission.ReadTeamAndProjects)
  @Query(() => TeamMemberConnection, { description: "Every team member, oldest first." })
  teamMembers(
    @Arg("first", () => Int, { nullable: true, description: "1 to 500; 50 when absent." }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<TeamMember>> {
    return ctx.services.members.list({ first, after });
  }

  @Authorized(Permission.ReadTeamAndProjects)
  @Query(() => TeamMember, { nullable: true, description: "The calling team member." })
  me(@Ctx() ctx: RequestContext): TeamMember {
    if (ctx.actor.kind !== "member") throw new Error("unreachable: authorized for members only");
    return ctx.actor.member;
  }
}
