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
  CreateTeamMember: "CreateTeamMember",
  UpdateTeamMember: "UpdateTeamMember",
  RotateTeamMemberApiKey: "RotateTeamMemberApiKey",
  UpdateProject: "UpdateProject",
  RotateProjectSecret: "RotateProjectSecret",
  RotatePublicToken: "RotatePublicToken",
  UpdateUser: "UpdateUser",
  RequestImpersonation: "RequestImpersonation",
  ApproveImpersonationRequest: "ApproveImpersonationRequest",
  DenyImpersonationRequest: "DenyImpersonationRequest",
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** Event types (contract), also the webhook event types. */
export const AuditEventType = {
  UserImpersonate: "direct.user.impersonate",
  SessionRevoke: "direct.session.revoke",
  TokenCreate: "dashboard.impersonation_token.create",
  PolicyUpdate: "dashboard.impersonation_policy.update",
  TeamMemberCreate: "dashboard.team_member.create",
  TeamMemberUpdate: "dashboard.team_member.update",
  TeamMemberApiKeyRotate: "dashboard.team_member.api_key_rotate",
  ProjectUpdate: "dashboard.project.update",
  ProjectSecretRotate: "dashboard.project.secret_rotate",
  ProjectPublicTokenRotate: "dashboard.project.public_token_rotate",
  UserUpdate: "dashboard.user.update",
  ImpersonationRequestCreate: "dashboard.impersonation_request.create",
  ImpersonationRequestApprove: "dashboard.impersonation_request.approve",
  ImpersonationRequestDeny: "dashboard.impersonation_request.deny",
} as const;
export type AuditEventType = (typeof AuditEventType)[keyof typeof AuditEventType];

/** Event types of the install-wide log (member changes): no project, so no webhook endpoint. */
export const installWideEventTypes: readonly string[] = [
  AuditEventType.TeamMemberCreate,
  AuditEventType.TeamMemberUpdate,
  AuditEventType.TeamMemberApiKeyRotate,
];

/** Every event type a project's webhook endpoint may ask for: those of events in a project's log. */
export const allEventTypes: readonly string[] = Object.values(AuditEventType).filter((type) => !installWideEventTypes.includes(type));

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
    case AuditAction.CreateTeamMember:
      return AuditEventType.TeamMemberCreate;
    case AuditAction.UpdateTeamMember:
      return AuditEventType.TeamMemberUpdate;
    case AuditAction.RotateTeamMemberApiKey:
      return AuditEventType.TeamMemberApiKeyRotate;
    case AuditAction.UpdateProject:
      return AuditEventType.ProjectUpdate;
    case AuditAction.RotateProjectSecret:
      return AuditEventType.ProjectSecretRotate;
    case AuditAction.RotatePublicToken:
      return AuditEventType.ProjectPublicTokenRotate;
    case AuditAction.UpdateUser:
      return AuditEventType.UserUpdate;
    case AuditAction.RequestImpersonation:
      return AuditEventType.ImpersonationRequestCreate;
    case AuditAction.ApproveImpersonationRequest:
      return AuditEventType.ImpersonationRequestApprove;
    case AuditAction.DenyImpersonationRequest:
      return AuditEventType.ImpersonationRequestDeny;
  }
}
