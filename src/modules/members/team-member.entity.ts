import { Entity, Enum, OptionalProps, PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";
import { TeamRole } from "./team-role.js";

@ObjectType({ description: "A member of the company's staff: the impersonator." })
@Entity({ tableName: "team_members" })
export class TeamMember {
  [OptionalProps]?: "disabled" | "name";

  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("member");

  @Field(() => String)
  @Property({ type: "string", length: 320, unique: true })
  email!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 200, nullable: true })
  name: string | null = null;

  @Field(() => TeamRole)
  @Enum({ items: () => TeamRole, nativeEnumName: undefined })
  role!: TeamRole;

  @Field(() => Boolean)
  @Property({ type: "boolean" })
  disabled: boolean = false;

  @Property({ type: Date })
  createdAt!: Date;
}
