import { Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";

@Resolver()
export class SigningKeyResolver {
  @Authorized(Permission.ManageSigningKeys)
  @Mutation(() => String, {
    description:
      "Makes a new session-JWT signing key the signer and returns its kid. Earlier keys stay in the JWKS, and keep verifying, for 65 minutes: no JWT already issued breaks.",
  })
  async rotateSigningKey(@Ctx() ctx: RequestContext): Promise<string> {
    return ctx.services.signingKeys.rotate(ctx.em);
  }
}
