import { Field, InputType, ObjectType } from "type-graphql";
import { connectionTypes } from "../../graphql/connection.js";
import { Project } from "./project.entity.js";

@InputType()
export class CreateProjectInput {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  loginRedirectUrl!: string;
}

@ObjectType()
export class CreateProjectPayload {
  @Field(() => Project)
  project!: Project;

  @Field(() => String, { description: "The backend's secret for HTTP Basic auth. Shown once." })
  secret!: string;

  @Field(() => String, { description: "The frontend's public token (X-Public-Token). Shown once." })
  publicToken!: string;
}

@InputType()
export class UpdateProjectInput {
  @Field(() => String, { nullable: true, description: "Unchanged when absent." })
  name?: string | null;

  @Field(() => String, { nullable: true, description: "Unchanged when absent; its origin may call /graphql at once." })
  loginRedirectUrl?: string | null;
}

@ObjectType()
export class RotateProjectSecretPayload {
  @Field(() => Project)
  project!: Project;

  @Field(() => String, { description: "The backend's new secret. Shown once; the old one no longer works." })
  secret!: string;
}

@ObjectType()
export class RotatePublicTokenPayload {
  @Field(() => Project)
  project!: Project;

  @Field(() => String, { description: "The frontend's new public token. Shown once; the old one no longer works." })
  publicToken!: string;
}

export const { ConnectionType: ProjectConnection } = connectionTypes(Project, "Project");
