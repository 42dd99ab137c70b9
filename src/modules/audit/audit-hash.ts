import { createHash } from "node:crypto";
import type { AuditEvent } from "./audit-event.entity.js";

export const genesisHash = "0".repeat(64);

/**
 * The fields a hash covers, in a fixed order; dates as ISO strings. `mode` and
 * `impersonationRequestId` came later: they are appended only when one is set, so the events written
 * before them keep the form (and the hash) they were chained with.
 */
export function canonicalAuditForm(event: AuditEvent): string {
  const fields: unknown[] = [
    event.id,
    event.projectId,
    event.seq,
    event.action,
    event.eventType,
    event.status,
    event.errorCode,
    event.requestId,
    event.userId,
    event.impersonatorId,
    event.impersonatorEmail,
    event.reason,
    event.sessionId,
    event.ipAddress,
    event.userAgent,
    event.actorType,
    event.actorId,
    event.details,
    new Date(event.createdAt).toISOString(),
  ];
  const mode = event.mode ?? null;
  const impersonationRequestId = event.impersonationRequestId ?? null;
  if (mode !== null || impersonationRequestId !== null) fields.push(mode, impersonationRequestId);
  return JSON.stringify(fields);
}

/** SHA-256 over the previous event's hash and this event's canonical form. */
export function chainHash(prevHash: string, event: AuditEvent): string {
  return createHash("sha256").update(prevHash).update("\n").update(canonicalAuditForm(event)).digest("hex");
}
