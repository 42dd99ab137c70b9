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
}

export const { EdgeType: UserEdge, ConnectionType: UserConnection } = connectionTypes(User, "User");
export type UserConnection = InstanceType<typeof UserConnection>;
