/** Pub/sub topics. Payloads are plain JSON so that they cross Redis unchanged. */
export enum Topic {
  AuditEventAdded = "AUDIT_EVENT_ADDED",
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
  ipAddress: string | null;
  userAgent: string | null;
  actorType: string;
  actorId: string | null;
  details: string | null;
  createdAt: string;
}

export type TopicPayloads = {
  [Topic.AuditEventAdded]: [AuditEventMessage];
};
