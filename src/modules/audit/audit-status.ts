import { registerEnumType } from "type-graphql";

export enum AuditStatus {
  SUCCESS = "SUCCESS",
  FAILURE = "FAILURE",
}
registerEnumType(AuditStatus, { name: "AuditStatus" });

/** Audited actions (contract). */
export const AuditAction = {
  SetImpersonationPolicy: "SetImpersonationPolicy",
  CreateImpersonationToken: "CreateImpersonationToken",
  AuthenticateImpersonationToken: "AuthenticateImpersonationToken",
  RevokeSession: "RevokeSession",
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** Event types (contract), also the webhook event types. */
export const AuditEventType = {
  UserImpersonate: "direct.user.impersonate",
  SessionRevoke: "direct.session.revoke",
  TokenCreate: "dashboard.impersonation_token.create",
  PolicyUpdate: "dashboard.impersonation_policy.update",
} as const;
export type AuditEventType = (typeof AuditEventType)[keyof typeof AuditEventType];

export const allEventTypes: readonly string[] = Object.values(AuditEventType);

/** The event type of an action; failed actions have none (they changed nothing to announce). */
export function eventTypeFor(action: AuditAction): AuditEventType {
  switch (action) {
    case AuditAction.SetImpersonationPolicy:
      return AuditEventType.PolicyUpdate;
    case AuditAction.CreateImpersonationToken:
      return AuditEventType.TokenCreate;
    case AuditAction.AuthenticateImpersonationToken:
      return AuditEventType.UserImpersonate;
    case AuditAction.RevokeSession:
      return AuditEventType.SessionRevoke;
  }
}
