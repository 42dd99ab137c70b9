import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Connection } from "../../graphql/connection.js";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { ImpersonationPolicy } from "../policy/policy.types.js";
import { Project } from "./project.entity.js";
import {
  CreateProjectInput,
  CreateProjectPayload,
  ProjectConnection,
  RotateProjectSecretPayload,
  RotatePublicTokenPayload,
  UpdateProjectInput,
} from "./project.types.js";

@Resolver(() => Project)
export class ProjectResolver {
  @Authorized(Permission.ManageTeamAndProjects)
  @Mutation(() => CreateProjectPayload)
  async createProject(@Arg("input", () => CreateProjectInput) input: CreateProjectInput, @Ctx() ctx: RequestContext): Promise<CreateProjectPayload> {
    return ctx.services.projects.create(input);
  }

  @Authorized(Permission.ManageTeamAndProjects)
  @Mutation(() => Project)
  updateProject(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateProjectInput) input: UpdateProjectInput,
    @Ctx() ctx: RequestContext,
  ): Promise<Project> {
    return ctx.services.projects.update(ctx, id, input);
  }

  @Authorized(Permission.ManageTeamAndProjects)
  @Mutation(() => RotateProjectSecretPayload, { description: "A new backend secret; the old one stops working at once." })
  rotateProjectSecret(@Arg("projectId", () => ID) projectId: string, @Ctx() ctx: RequestContext): Promise<RotateProjectSecretPayload> {
    return ctx.services.projects.rotateSecret(ctx, projectId);
  }

  @Authorized(Permission.ManageTeamAndProjects)
  @Mutation(() => RotatePublicTokenPayload, { description: "A new frontend public token; the old one stops working at once." })
  rotatePublicToken(@Arg("projectId", () => ID) projectId: string, @Ctx() ctx: RequestContext): Promise<RotatePublicTokenPayload> {
    return ctx.services.projects.rotatePublicToken(ctx, projectId);
  }

  @Authorized(Permission.ReadTeamAndProjects)
  @Query(() => ProjectConnection, { description: "Every project, oldest first." })
  projects(
    @Arg("first", () => Int, { nullable: true, description: "1 to 500; 50 when absent." }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Connection<Project>> {
    return ctx.services.projects.list({ first, after });
  }

  @FieldResolver(() => ImpersonationPolicy)
  impersonationPolicy(@Root() project: Project): ImpersonationPolicy {
    return ImpersonationPolicy.of(project);
  }
}
