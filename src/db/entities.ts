import { ApiKey } from "../modules/members/api-key.entity.js";
import { TeamMember } from "../modules/members/team-member.entity.js";
import { Project } from "../modules/projects/project.entity.js";
import { User } from "../modules/users/user.entity.js";
import { ImpersonationToken } from "../modules/tokens/impersonation-token.entity.js";
import { Session } from "../modules/sessions/session.entity.js";
import { AuditEvent } from "../modules/audit/audit-event.entity.js";
import { SigningKey } from "../modules/signing-keys/signing-key.entity.js";
import { WebhookEndpoint } from "../modules/webhooks/webhook-endpoint.entity.js";
import { WebhookDelivery } from "../modules/webhooks/webhook-delivery.entity.js";
import { WebhookAttempt } from "../modules/webhooks/webhook-attempt.entity.js";
import { ImpersonationRequest } from "../modules/approvals/impersonation-request.entity.js";

/** The explicit entity list: no folder scanning, so tsc output and vitest see the same model. */
export const entities = [
  Project,
  TeamMember,
  ApiKey,
  User,
  ImpersonationToken,
  Session,
  AuditEvent,
  SigningKey,
  WebhookEndpoint,
  WebhookDelivery,
  WebhookAttempt,
  ImpersonationRequest,
];
