import { Field, InputType, ObjectType } from "type-graphql";
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
