import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { TeamMember } from "../members/team-member.entity.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";
import { User } from "../users/user.entity.js";
import { ImpersonationCheck, ImpersonationRequestConnection, RequestImpersonationInput } from "./approval.types.js";
import { ImpersonationRequest } from "./impersonation-request.entity.js";
import { ImpersonationRequestStatus } from "./impersonation-request-status.js";

@Resolver(() => ImpersonationRequest)
export class ApprovalResolver {
  @Authorized(Permission.RequestImpersonation)
  @Mutation(() => ImpersonationRequest, { description: "Asks another ADMIN to approve impersonating a user (four-eyes)." })
  requestImpersonation(@Arg("input", () => RequestImpersonationInput) input: RequestImpersonationInput, @Ctx() ctx: RequestContext): Promise<ImpersonationRequest> {
    return ctx.services.approvals.request(ctx, input);
  }

  @Authorized(Permission.DecideImpersonationRequest)
  @Mutation(() => ImpersonationRequest, { description: "ADMIN only, never one's own request; the requester may then create one token from it." })
  approveImpersonationRequest(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<ImpersonationRequest> {
    return ctx.services.approvals.approve(ctx, id);
  }

  @Authorized(Permission.DecideImpersonationRequest)
  @Mutation(() => ImpersonationRequest, { description: "ADMIN only, never one's own request; the reason is kept." })
  denyImpersonationRequest(
    @Arg("id", () => ID) id: string,
    @Arg("reason", () => String) reason: string,
    @Ctx() ctx: RequestContext,
  ): Promise<ImpersonationRequest> {
    return ctx.services.approvals.deny(ctx, id, reason);
  }

  @Authorized(Permission.ReadImpersonationRequests)
  @Query(() => ImpersonationRequestConnection, { description: "A project's impersonation requests, newest first." })
  impersonationRequests(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("status", () => ImpersonationRequestStatus, { nullable: true }) status: ImpersonationRequestStatus | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ImpersonationRequestConnection> {
    return ctx.services.approvals.list(ctx, { projectId, status, first, after });
  }

  @Authorized(Permission.CheckImpersonation)
  @Query(() => ImpersonationCheck, { description: "Whether the calling member may impersonate this user now, and if not, the code the real call would get." })
  impersonationCheck(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("userId", () => ID) userId: string,
    @Arg("mode", () => ImpersonationMode, { nullable: true }) mode: ImpersonationMode | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ImpersonationCheck> {
    return ctx.services.impersonationCheck.check(ctx, { projectId, userId, mode });
  }

  @FieldResolver(() => User, { nullable: true, description: "The user to impersonate (through the request's loader)." })
  async user(@Root() request: ImpersonationRequest, @Ctx() ctx: RequestContext): Promise<User | null> {
    const user = await ctx.loaders.user.load(request.userId);
    return user && user.projectId === request.projectId ? user : null;
  }

  @FieldResolver(() => TeamMember, { nullable: true, description: "Who asked (through the request's loader)." })
  requester(@Root() request: ImpersonationRequest, @Ctx() ctx: RequestContext): Promise<TeamMember | null> {
    return ctx.loaders.member.load(request.requesterId);
  }
}
