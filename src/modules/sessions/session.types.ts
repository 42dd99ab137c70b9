import { Field, ObjectType } from "type-graphql";
import { connectionTypes } from "../../graphql/connection.js";
import { User } from "../users/user.entity.js";
import { Session } from "./session.entity.js";

@ObjectType()
export class AuthenticateSessionPayload {
  @Field(() => Session)
  session!: Session;

  @Field(() => User)
  user!: User;

  @Field(() => String, { description: "A fresh JWT, valid for at most 5 minutes and never past the session." })
  sessionJwt!: string;
}

@ObjectType()
export class RevokeSessionPayload {
  @Field(() => String)
  requestId!: string;

  @Field(() => Session)
  session!: Session;
}

export const { EdgeType: SessionEdge, ConnectionType: SessionConnection } = connectionTypes(Session, "Session");
export type SessionConnection = InstanceType<typeof SessionConnection>;
