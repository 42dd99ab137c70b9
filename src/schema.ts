import type { GraphQLSchema } from "graphql";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import { authChecker } from "./auth/auth-checker.js";
import { ApprovalResolver } from "./modules/approvals/approval.resolver.js";
import { AuditResolver } from "./modules/audit/audit.resolver.js";
import { TeamMemberResolver } from "./modules/members/team-member.resolver.js";
import { PolicyResolver } from "./modules/policy/policy.resolver.js";
import { ProjectResolver } from "./modules/projects/project.resolver.js";
import { SigningKeyResolver } from "./modules/signing-keys/signing-key.resolver.js";
import { SessionResolver } from "./modules/sessions/session.resolver.js";
import { TokenResolver } from "./modules/tokens/token.resolver.js";
import { UserResolver } from "./modules/users/user.resolver.js";
import { WebhookResolver } from "./modules/webhooks/webhook.resolver.js";
import type { AppPubSub } from "./pubsub/pubsub.js";

/** The one list of resolvers. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const resolvers: NonEmptyArray<Function> = [
  ProjectResolver,
  TeamMemberResolver,
  UserResolver,
  PolicyResolver,
  TokenResolver,
  ApprovalResolver,
  SessionResolver,
  AuditResolver,
  WebhookResolver,
  SigningKeyResolver,
];

export function buildAppSchema(pubsub: AppPubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    authChecker,
    authMode: "error",
    pubSub: pubsub,
    validate: false,
  });
}
