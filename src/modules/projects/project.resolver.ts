import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { ImpersonationPolicy } from "../policy/policy.types.js";
import { Project } from "./project.entity.js";
import { CreateProjectInput, CreateProjectPayload } from "./project.types.js";

@Resolver(() => Project)
export class ProjectResolver {
  @Authorized(Permission.ManageTeamAndProjects)
  @Mutation(() => CreateProjectPayload)
  async createProject(@Arg("input", () => CreateProjectInput) input: CreateProjectInput, @Ctx() ctx: RequestContext): Promise<CreateProjectPayload> {
    return ctx.services.projects.create(input);
  }

  @FieldResolver(() => ImpersonationPolicy)
  impersonationPolicy(@Root() project: Project): ImpersonationPolicy {
    return ImpersonationPolicy.of(project);
  }
}
