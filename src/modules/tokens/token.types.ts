import { Field, ID, InputType, ObjectType } from "type-graphql";
import { ImpersonationMode } from "../policy/impersonation-mode.js";
import { Session } from "../sessions/session.entity.js";
import { User } from "../users/user.entity.js";

@InputType()
export class CreateImpersonationTokenInput {
  @Field(() => ID)
  projectId!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => String, { description: "Why; required, 1 to 500 characters after trimming. Kept in the audit log. With requestId: the request's reason." })
  reason!: string;

  @Field(() => ImpersonationMode, { nullable: true, description: "Defaults to the policy's defaultMode (with requestId: the request's mode)." })
  mode?: ImpersonationMode | null;

  @Field(() => ID, { nullable: true, description: "The caller's approved impersonation request, where the policy or a protected user requires one; used once." })
  requestId?: string | null;
}

@ObjectType()
export class CreateImpersonationTokenPayload {
  @Field(() => String, { description: "Single use; shown once." })
  token!: string;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => String, { description: "The project's login redirect URL with token_type=impersonation&token=<token>." })
  launchUrl!: string;
}

@ObjectType()
export class AuthenticateImpersonationTokenPayload {
  @Field(() => String)
  requestId!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => User)
  user!: User;

  @Field(() => String, { description: "Opaque session token; shown once." })
  sessionToken!: string;

  @Field(() => String)
  sessionJwt!: string;

  @Field(() => Session)
  session!: Session;
}
