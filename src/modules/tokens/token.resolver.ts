import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import {
  AuthenticateImpersonationTokenPayload,
  CreateImpersonationTokenInput,
  CreateImpersonationTokenPayload,
} from "./token.types.js";

@Resolver()
export class TokenResolver {
  @Authorized(Permission.CreateImpersonationToken)
  @Mutation(() => CreateImpersonationTokenPayload)
  createImpersonationToken(
    @Arg("input", () => CreateImpersonationTokenInput) input: CreateImpersonationTokenInput,
    @Ctx() ctx: RequestContext,
  ): Promise<CreateImpersonationTokenPayload> {
    return ctx.services.tokens.create(ctx, input);
  }

  @Authorized(Permission.AuthenticateImpersonationToken)
  @Mutation(() => AuthenticateImpersonationTokenPayload)
  authenticateImpersonationToken(@Arg("token", () => String) token: string, @Ctx() ctx: RequestContext): Promise<AuthenticateImpersonationTokenPayload> {
    return ctx.services.tokens.authenticate(ctx, token);
  }
}
