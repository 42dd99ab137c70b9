import { newId } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import { detachedEntity } from "../../db/detached-entity.js";
import type { Tx } from "../../db/database.js";
import type { AuditEvent } from "../audit/audit-event.entity.js";
import { toAuditEventMessage } from "../audit/audit-message.js";
import { AuditStatus } from "../audit/audit-status.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";
import { webhookDeliveryRepository } from "./webhook-delivery.repository.js";
import { webhookEndpointRepository, type SubscribedEndpoint } from "./webhook-endpoint.repository.js";

/** How long an instance trusts its copy of a project's endpoint list (local writes clear it at once). */
export const endpointCacheMs = 1000;

/** The body every endpoint receives for an event (Standard Webhooks: `{ type, timestamp, data }`). */
export function webhookPayload(event: AuditEvent): string {
  return JSON.stringify({
    type: event.eventType,
    timestamp: new Date(event.createdAt).toISOString(),
    data: toAuditEventMessage(event),
  });
}

/** Whether an event is announced to webhooks at all: successful, typed, and not a no-op. */
export function isWebhookEvent(event: AuditEvent): boolean {
  if (event.status !== AuditStatus.SUCCESS || !event.eventType || !event.projectId) return false;
  if (event.details) {
    try {
      const details = JSON.parse(event.details) as { noop?: unknown };
      if (details.noop === true) return false;
    } catch {
      // details are written by us as JSON; unparseable means nothing to exclude on
    }
  }
  return true;
}

/**
 * The transactional outbox: runs inside every audited transaction (a step of AuditLog.append)
 * and writes one delivery row per subscribed endpoint, so that an event and its deliveries commit
 * or roll back together. It stays cheap: events that are not announced cost nothing, and a
 * project's enabled endpoints are cached for a second (cleared at once by local endpoint changes;
 * another instance's change is seen within that second).
 */
export class WebhookOutbox {
  private readonly cache = new Map<string, { loadedAt: number; endpoints: SubscribedEndpoint[] }>();

  constructor(private readonly clock: Clock) {}

  /** Forget a project's endpoints (after a local create, update or delete commits). */
  invalidate(projectId: string): void {
    this.cache.delete(projectId);
  }

  /** An AuditLog step, in the event's transaction. Returns how many deliveries it queued. */
  async record(tx: Tx, event: AuditEvent): Promise<number> {
    if (!isWebhookEvent(event)) return 0;
    const endpoints = (await this.endpointsOf(tx, event.projectId)).filter((endpoint) => endpoint.eventTypes.includes(event.eventType!));
    if (endpoints.length === 0) return 0;
    const payload = webhookPayload(event);
    const deliveries = endpoints.map((endpoint) =>
      detachedEntity(WebhookDelivery, {
        id: newId("msg"),
        endpointId: endpoint.id,
        projectId: event.projectId,
        auditEventId: event.id,
        eventType: event.eventType!,
        payload,
        status: WebhookDeliveryStatus.PENDING,
        attemptCount: 0,
        nextAttemptAt: event.createdAt,
        claimedUntil: null,
        lastError: null,
        createdAt: event.createdAt,
        completedAt: null,
      }),
    );
    for (const delivery of deliveries) await webhookDeliveryRepository.queue(tx.sql, delivery);
    return deliveries.length;
  }

  private async endpointsOf(tx: Tx, projectId: string): Promise<SubscribedEndpoint[]> {
    const cached = this.cache.get(projectId);
    const now = this.clock.now().getTime();
    if (cached && now >= cached.loadedAt && now - cached.loadedAt < endpointCacheMs) return cached.endpoints;
    // Read through the transaction's own connection (SQLite has exactly one).
    const endpoints = await webhookEndpointRepository.subscribedOfProject(tx.sql, projectId);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(projectId, { loadedAt: now, endpoints });
    return endpoints;
  }
}
