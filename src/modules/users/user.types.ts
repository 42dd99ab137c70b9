import { Field, ID, InputType } from "type-graphql";
import { connectionTypes } from "../../graphql/connection.js";
import { User } from "./user.entity.js";

@InputType()
export class CreateUserInput {
  @Field(() => ID)
  projectId!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true, description: "The application's own id for the user (trimmed, 1–256 characters); unique within the project." })
  externalId?: string | null;
}

@InputType({ description: "The fields to change; absent ones stay as they are. Only an ADMIN may set `protected`." })
export class UpdateUserInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Boolean, { nullable: true })
  protected?: boolean | null;

  @Field(() => String, { nullable: true })
  externalId?: string | null;
}

export const { EdgeType: UserEdge, ConnectionType: UserConnection } = connectionTypes(User, "User");
export type UserConnection = InstanceType<typeof UserConnection>;
