import { newId } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config.js";
import type { RequestContext } from "../../context.js";
import type { Database, Sql } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { isPlausibleId } from "../../graphql/validation.js";
import { allEventTypes } from "../audit/audit-status.js";
import type { ProjectService } from "../projects/project.service.js";
import type { WebhookAttempt } from "./webhook-attempt.entity.js";
import { webhookAttemptRepository } from "./webhook-attempt.repository.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";
import type { WebhookDelivery } from "./webhook-delivery.entity.js";
import { webhookDeliveryRepository } from "./webhook-delivery.repository.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";
import { webhookEndpointRepository, type WebhookEndpointChanges } from "./webhook-endpoint.repository.js";
import type { WebhookOutbox } from "./webhook-outbox.js";
import { generateWebhookSecret } from "./webhook-signature.js";
import type { CreateWebhookEndpointInput, UpdateWebhookEndpointInput } from "./webhook.types.js";
import { validateWebhookUrl } from "./url-guard.js";

/** A project may have this many endpoints; each event fans out to all of them in its transaction. */
export const maxEndpointsPerProject = 50;

export interface NewWebhookEndpoint {
  endpoint: WebhookEndpoint;
  secret: string;
}

/** Anything that can be told there may be work: the delivery worker. */
export interface DeliveryWaker {
  wake(): void;
}

/**
 * Webhook endpoints (ADMIN and DEVELOPER, per the matrix) and the delivery log. Endpoint changes
 * are not audit events: the audit log records impersonation, not configuration.
 */
export class WebhookEndpointService {
  constructor(
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly db: Database,
    private readonly projects: ProjectService,
    private readonly outbox: WebhookOutbox,
    private readonly worker: DeliveryWaker,
  ) {}

  /** Creates an endpoint with a fresh signing secret, returned once. */
  async create(ctx: RequestContext, input: CreateWebhookEndpointInput): Promise<NewWebhookEndpoint> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, input.projectId);
    const url = validateWebhookUrl(input.url, this.config.webhookAllowPrivateUrls);
    const eventTypes = validateEventTypes(input.eventTypes);
    const existing = await webhookEndpointRepository.countOfProject(this.db.sql, project.id);
    if (existing >= maxEndpointsPerProject) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `A project may have at most ${maxEndpointsPerProject} webhook endpoints.`);
    }
    const endpoint = detachedEntity(WebhookEndpoint, {
      id: newId("endpoint"),
      projectId: project.id,
      url,
      eventTypes,
      enabled: true,
      secret: generateWebhookSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdAt: this.clock.now(),
    });
    await webhookEndpointRepository.insert(this.db.sql, endpoint);
    this.outbox.invalidate(project.id);
    return { endpoint, secret: endpoint.secret };
  }

  async list(ctx: RequestContext, projectId: string): Promise<WebhookEndpoint[]> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, projectId);
    return webhookEndpointRepository.listOfProject(this.db.sql, project.id);
  }

  /** Changes an endpoint's URL, event types or enabled flag (re-enabling resumes its pending deliveries). */
  async update(ctx: RequestContext, id: string, input: UpdateWebhookEndpointInput): Promise<WebhookEndpoint> {
    const endpoint = await this.requireEndpoint(ctx, id);
    const changes: WebhookEndpointChanges = {};
    if (input.url !== null && input.url !== undefined) changes.url = validateWebhookUrl(input.url, this.config.webhookAllowPrivateUrls);
    if (input.eventTypes !== null && input.eventTypes !== undefined) changes.eventTypes = validateEventTypes(input.eventTypes);
    if (typeof input.enabled === "boolean") changes.enabled = input.enabled;
    if (Object.keys(changes).length === 0) return endpoint;
    await webhookEndpointRepository.change(this.db.sql, endpoint.id, changes);
    Object.assign(endpoint, changes);
    this.outbox.invalidate(endpoint.projectId);
    if (changes.enabled) this.worker.wake();
    return endpoint;
  }

  /** Deletes an endpoint with its deliveries and their attempts (nothing more is sent to it). */
  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    const endpoint = await this.requireEndpoint(ctx, id);
    await this.db.transaction(async (tx) => {
      await webhookAttemptRepository.deleteOfEndpoint(tx.sql, endpoint.id);
      await webhookDeliveryRepository.deleteOfEndpoint(tx.sql, endpoint.id);
      await webhookEndpointRepository.delete(tx.sql, endpoint.id);
    });
    this.outbox.invalidate(endpoint.projectId);
    return true;
  }

  /**
   * Replaces an endpoint's signing secret. The previous secret keeps signing, as a second
   * signature, for the configured overlap (24 h by default) so receivers can switch without
   * dropping deliveries; a second rotation within the overlap retires the oldest secret at once.
   */
  async rotateSecret(ctx: RequestContext, id: string): Promise<NewWebhookEndpoint> {
    const endpoint = await this.requireEndpoint(ctx, id);
    const now = this.clock.now();
    const overlapMs = this.config.webhookSecretOverlapSeconds * 1000;
    const changes = {
      secret: generateWebhookSecret(),
      previousSecret: overlapMs > 0 ? endpoint.secret : null,
      previousSecretExpiresAt: overlapMs > 0 ? new Date(now.getTime() + overlapMs) : null,
    };
    // Conditional on the secret we read: of two concurrent rotations exactly one wins.
    const updated = await webhookEndpointRepository.replaceSecret(this.db.sql, endpoint.id, endpoint.secret, changes);
    if (updated !== 1) throw new AppError(ErrorCode.BAD_USER_INPUT, "The secret was rotated concurrently; try again.");
    Object.assign(endpoint, changes);
    return { endpoint, secret: changes.secret };
  }

  /** A project's deliveries, newest first, each with its attempts (two statements per page). */
  async deliveries(
    ctx: RequestContext,
    args: { projectId: string; endpointId?: string | null; status?: WebhookDeliveryStatus | null; first?: number | null; after?: string | null },
  ): Promise<Connection<WebhookDelivery>> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, args.projectId);
    const limit = pageSize(args.first);
    const cursor = decodeCursor(args.after, ["number", "string"]);
    const after = cursor ? ([new Date(cursor[0] as number), cursor[1] as string] as const) : null;
    const rows = await webhookDeliveryRepository.page(
      this.db.sql,
      { projectId: project.id, endpointId: args.endpointId ?? null, status: args.status ?? null },
      after,
      limit + 1,
    );
    const connection = toConnection(rows, limit, (delivery) => encodeCursor([delivery.createdAt.getTime(), delivery.id]));
    await attachAttempts(
      this.db.sql,
      connection.edges.map((edge) => edge.node),
    );
    return connection;
  }

  /**
   * Re-queues a FAILED delivery for one more attempt, now (same webhook-id, fresh signature). If
   * that attempt fails too the delivery is FAILED again; retry it again once the receiver is fixed.
   */
  async retry(ctx: RequestContext, id: string): Promise<WebhookDelivery> {
    const delivery = isPlausibleId(id) ? await webhookDeliveryRepository.findById(this.db.sql, id) : null;
    if (!delivery) throw new AppError(ErrorCode.NOT_FOUND, "Webhook delivery not found.");
    await this.projects.requireForActor(this.db.sql, ctx.actor, delivery.projectId);
    if (delivery.status !== WebhookDeliveryStatus.FAILED) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `Only a FAILED delivery can be retried; this one is ${delivery.status}.`);
    }
    const now = this.clock.now();
    const changes = { status: WebhookDeliveryStatus.PENDING, nextAttemptAt: now, completedAt: null, claimedUntil: null };
    const updated = await webhookDeliveryRepository.requeueFailed(this.db.sql, delivery.id, now);
    if (updated !== 1) throw new AppError(ErrorCode.BAD_USER_INPUT, "The delivery is no longer FAILED.");
    Object.assign(delivery, changes);
    await attachAttempts(this.db.sql, [delivery]);
    this.worker.wake();
    return delivery;
  }

  /** An endpoint the caller may manage: NOT_FOUND for an unknown id. */
  private async requireEndpoint(ctx: RequestContext, id: string): Promise<WebhookEndpoint> {
    const endpoint = isPlausibleId(id) ? await webhookEndpointRepository.findById(this.db.sql, id) : null;
    if (!endpoint) throw new AppError(ErrorCode.NOT_FOUND, "Webhook endpoint not found.");
    await this.projects.requireForActor(this.db.sql, ctx.actor, endpoint.projectId);
    return endpoint;
  }
}

/** A non-empty subset of the contract event types, deduplicated, in their canonical order. */
export function validateEventTypes(eventTypes: readonly string[] | null | undefined): string[] {
  if (!Array.isArray(eventTypes) || eventTypes.length === 0) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `"eventTypes" must name at least one of: ${allEventTypes.join(", ")}.`);
  }
  // Which one is not repeated: what was sent may be anything, a token included.
  if (eventTypes.some((type) => !allEventTypes.includes(type))) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `"eventTypes" holds an unknown event type; allowed: ${allEventTypes.join(", ")}.`);
  }
  return allEventTypes.filter((type) => eventTypes.includes(type));
}

async function attachAttempts(sql: Sql, deliveries: WebhookDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  const attempts = await webhookAttemptRepository.ofDeliveries(
    sql,
    deliveries.map((delivery) => delivery.id),
  );
  const byDelivery = new Map<string, WebhookAttempt[]>();
  for (const attempt of attempts) {
    const list = byDelivery.get(attempt.deliveryId) ?? [];
    list.push(attempt);
    byDelivery.set(attempt.deliveryId, list);
  }
  for (const delivery of deliveries) delivery.attempts = byDelivery.get(delivery.id) ?? [];
}
