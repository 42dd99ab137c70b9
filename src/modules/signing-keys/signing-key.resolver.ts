import { Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";

@Resolver()
export class SigningKeyResolver {
  @Authorized(Permission.ManageSigningKeys)
  @Mutation(() => String, {
    description:
      "Rotates in a new session-JWT signing key and returns its kid. It is published in the JWKS at once and signs 70 seconds later, once every instance publishes it; the key it replaces then retires, and stays in the JWKS, verifying, for 65 minutes more: no JWT already issued breaks.",
  })
  async rotateSigningKey(@Ctx() ctx: RequestContext): Promise<string> {
    return ctx.services.signingKeys.rotate();
  }
}
