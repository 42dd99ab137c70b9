import { Entity, OptionalProps, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { newId } from "../../auth/secrets.js";

@ObjectType({ description: "An end user of a project's application: the one impersonated." })
@Entity({ tableName: "users" })
@Unique({ properties: ["projectId", "email"] })
@Unique({ properties: ["projectId", "externalId"] })
export class User {
  [OptionalProps]?: "protected" | "externalId" | "name";

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

  @Field(() => Boolean, { description: "A protected user is never impersonated without an approved request. Only an ADMIN changes it." })
  @Property({ type: "boolean" })
  protected: boolean = false;

  @Field(() => String, { nullable: true, description: "The application's own id for the user; unique within the project." })
  @Property({ type: "string", length: 256, nullable: true })
  externalId: string | null = null;

  @Property({ type: Date })
  createdAt!: Date;
}
