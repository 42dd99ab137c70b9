import { Field, ID, InputType, ObjectType } from "type-graphql";
import { connectionTypes } from "../../graphql/connection.js";
import { ImpersonationMode } from "../policy/impersonation-mode.js";
import { ImpersonationRequest } from "./impersonation-request.entity.js";

@InputType()
export class RequestImpersonationInput {
  @Field(() => ID)
  projectId!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => String, { description: "Why; required, 1 to 500 characters after trimming. The token created from the approval carries it." })
  reason!: string;

  @Field(() => ImpersonationMode, { nullable: true, description: "Defaults to the policy's defaultMode." })
  mode?: ImpersonationMode | null;
}

@ObjectType({ description: "What impersonating a user would come to for the calling member, before anyone clicks." })
export class ImpersonationCheck {
  @Field(() => Boolean, { description: "True exactly when reasonCode is null: a token created now, then exchanged, would start a session." })
  allowed!: boolean;

  @Field(() => Boolean, { description: "Impersonating this user needs an approved request (requestImpersonation) first." })
  requiresApproval!: boolean;

  @Field(() => String, { nullable: true, description: "The error code the real call (token creation, then its exchange) would get; null when allowed." })
  reasonCode!: string | null;

  @Field(() => String, { nullable: true, description: "Why, for a person to read." })
  message!: string | null;
}

export const { EdgeType: ImpersonationRequestEdge, ConnectionType: ImpersonationRequestConnection } = connectionTypes(ImpersonationRequest, "ImpersonationRequest");
export type ImpersonationRequestConnection = InstanceType<typeof ImpersonationRequestConnection>;
