import type { AuditEventMessage } from "../../pubsub/topics.js";
import { AuditEvent } from "./audit-event.entity.js";

export function toAuditEventMessage(event: AuditEvent): AuditEventMessage {
  return {
    id: event.id,
    projectId: event.projectId,
    seq: event.seq,
    action: event.action,
    eventType: event.eventType,
    status: event.status,
    errorCode: event.errorCode,
    requestId: event.requestId,
    userId: event.userId,
    impersonatorId: event.impersonatorId,
    impersonatorEmail: event.impersonatorEmail,
    reason: event.reason,
    sessionId: event.sessionId,
    mode: event.mode ?? null,
    impersonationRequestId: event.impersonationRequestId ?? null,
    ipAddress: event.ipAddress,
    userAgent: event.userAgent,
    actorType: event.actorType,
    actorId: event.actorId,
    details: event.details,
    createdAt: new Date(event.createdAt).toISOString(),
  };
}

/** Back from the wire: an AuditEvent instance the GraphQL type can resolve (hash fields omitted). */
export function fromAuditEventMessage(message: AuditEventMessage): AuditEvent {
  return Object.assign(new AuditEvent(), message, { createdAt: new Date(message.createdAt) });
}
