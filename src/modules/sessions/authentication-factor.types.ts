import { Field, ID, ObjectType, registerEnumType } from "type-graphql";

export enum AuthenticationFactorType {
  IMPERSONATED = "IMPERSONATED",
}
registerEnumType(AuthenticationFactorType, { name: "AuthenticationFactorType" });

@ObjectType()
export class ImpersonatedFactor {
  @Field(() => ID)
  impersonatorId!: string;

  @Field(() => String)
  impersonatorEmailAddress!: string;
}

@ObjectType({ description: "How the session was authenticated: for an impersonation, only the impersonated factor." })
export class AuthenticationFactor {
  @Field(() => AuthenticationFactorType)
  type!: AuthenticationFactorType;

  @Field(() => String)
  deliveryMethod!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  lastAuthenticatedAt!: Date;

  @Field(() => ImpersonatedFactor, { nullable: true })
  impersonatedFactor!: ImpersonatedFactor | null;
}
