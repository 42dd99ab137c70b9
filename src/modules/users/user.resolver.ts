import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { User } from "./user.entity.js";
import { CreateUserInput, UpdateUserInput, UserConnection } from "./user.types.js";

@Resolver(() => User)
export class UserResolver {
  @Authorized(Permission.WriteUsers)
  @Mutation(() => User)
  createUser(@Arg("input", () => CreateUserInput) input: CreateUserInput, @Ctx() ctx: RequestContext): Promise<User> {
    return ctx.services.users.create(ctx, input);
  }

  @Authorized(Permission.UpdateUsers)
  @Mutation(() => User)
  updateUser(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateUserInput) input: UpdateUserInput,
    @Ctx() ctx: RequestContext,
  ): Promise<User> {
    return ctx.services.users.update(ctx, projectId, id, input);
  }

  @Authorized(Permission.ReadUsers)
  @Query(() => User, { nullable: true, description: "A user found by exactly one of `id` and `externalId`." })
  user(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("id", () => ID, { nullable: true }) id: string | null,
    @Arg("externalId", () => String, { nullable: true }) externalId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<User | null> {
    return ctx.services.users.get(ctx, projectId, { id, externalId });
  }

  @Authorized(Permission.ReadUsers)
  @Query(() => UserConnection)
  users(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("search", () => String, { nullable: true }) search: string | null,
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<UserConnection> {
    return ctx.services.users.list(ctx, { projectId, search, first, after });
  }
}
