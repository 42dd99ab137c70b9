import { Field, InputType, ObjectType } from "type-graphql";
import { connectionTypes } from "../../graphql/connection.js";
import { TeamMember } from "./team-member.entity.js";
import { TeamRole } from "./team-role.js";

@InputType()
export class CreateTeamMemberInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => TeamRole)
  role!: TeamRole;
}

@InputType()
export class UpdateTeamMemberInput {
  @Field(() => TeamRole, { nullable: true })
  role?: TeamRole | null;

  @Field(() => Boolean, { nullable: true })
  disabled?: boolean | null;
}

@ObjectType()
export class CreateTeamMemberPayload {
  @Field(() => TeamMember)
  member!: TeamMember;

  @Field(() => String, { description: "The member's API key (Bearer). Shown once." })
  apiKey!: string;
}

@ObjectType()
export class RotateTeamMemberApiKeyPayload {
  @Field(() => TeamMember)
  member!: TeamMember;

  @Field(() => String, { description: "The member's new API key (Bearer). Shown once; the old one no longer works." })
  apiKey!: string;
}

export const { ConnectionType: TeamMemberConnection } = connectionTypes(TeamMember, "TeamMember");
