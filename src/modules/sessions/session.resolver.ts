import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { AuthenticateSessionPayload, RevokeSessionPayload, SessionConnection } from "./session.types.js";

@Resolver()
export class SessionResolver {
  @Authorized(Permission.AuthenticateSession)
  @Mutation(() => AuthenticateSessionPayload)
  authenticateSession(
    @Arg("sessionToken", () => String, { nullable: true }) sessionToken: string | null,
    @Arg("sessionJwt", () => String, { nullable: true }) sessionJwt: string | null,
    @Arg("sessionDurationMinutes", () => Int, {
      nullable: true,
      description: "Refused if given: impersonated sessions cannot be extended.",
    })
    sessionDurationMinutes: number | null,
    @Ctx() ctx: RequestContext,
  ): Promise<AuthenticateSessionPayload> {
    return ctx.services.sessions.authenticate(ctx, { sessionToken, sessionJwt, sessionDurationMinutes });
  }

  @Authorized(Permission.RevokeSession)
  @Mutation(() => RevokeSessionPayload)
  async revokeSession(
    @Arg("sessionId", () => ID, { nullable: true }) sessionId: string | null,
    @Arg("sessionToken", () => String, { nullable: true }) sessionToken: string | null,
    @Arg("sessionJwt", () => String, { nullable: true }) sessionJwt: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<RevokeSessionPayload> {
    const session = await ctx.services.sessions.revoke(ctx, { sessionId, sessionToken, sessionJwt });
    return { requestId: ctx.requestId, session };
  }

  @Authorized(Permission.ReadSessions)
  @Query(() => SessionConnection)
  sessions(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("userId", () => ID, { nullable: true }) userId: string | null,
    @Arg("impersonatorId", () => ID, { nullable: true }) impersonatorId: string | null,
    @Arg("activeOnly", () => Boolean, { nullable: true }) activeOnly: boolean | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SessionConnection> {
    return ctx.services.sessions.list(ctx, { projectId, userId, impersonatorId, activeOnly, first, after });
  }
}
