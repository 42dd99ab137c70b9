/** Pub/sub topics. Payloads are plain JSON so that they cross Redis unchanged. */
export enum Topic {
  AuditEventAdded = "AUDIT_EVENT_ADDED",
  /** A credential's standing changed (a member disabled or its role changed): re-check it now. */
  CredentialChanged = "CREDENTIAL_CHANGED",
}

export interface CredentialChangedMessage {
  kind: "member" | "project";
  id: string;
}

/** An audit event as published: every field of the GraphQL type, instants as ISO strings. */
export interface AuditEventMessage {
  id: string;
  projectId: string;
  seq: number;
  action: string;
  eventType: string | null;
  status: string;
  errorCode: string | null;
  requestId: string;
  userId: string | null;
  impersonatorId: string | null;
  impersonatorEmail: string | null;
  reason: string | null;
  sessionId: string | null;
  /** READ_ONLY or READ_WRITE on the events of tokens, sessions and requests (SPEC §9). */
  mode: string | null;
  /** The impersonation request behind the event (SPEC §9). */
  impersonationRequestId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  actorType: string;
  actorId: string | null;
  details: string | null;
  createdAt: string;
}

export type TopicPayloads = {
  [Topic.AuditEventAdded]: [AuditEventMessage];
  [Topic.CredentialChanged]: [CredentialChangedMessage];
};
