import { Field, InputType, ObjectType } from "type-graphql";
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
