import { Entity, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";

@ObjectType({ description: "An end user of a project's application: the one impersonated." })
@Entity({ tableName: "users" })
@Unique({ properties: ["projectId", "email"] })
export class User {
  @Field(() => ID)
  @PrimaryKey({ type: "string", length: 64 })
  id: string = newId("user");

  @Field(() => ID)
  @Property({ type: "string", length: 64, index: true })
  projectId!: string;

  @Field(() => String)
  @Property({ type: "string", length: 320 })
  email!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 200, nullable: true })
  name: string | null = null;

  @Property({ type: Date })
  createdAt!: Date;
}
