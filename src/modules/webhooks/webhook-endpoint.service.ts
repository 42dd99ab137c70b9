import type { EntityManager } from "@mikro-orm/core";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config.js";
import type { RequestContext } from "../../context.js";
import { inTransaction } from "../../db/transaction.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { isPlausibleId } from "../../graphql/validation.js";
import { allEventTypes } from "../audit/audit-status.js";
import type { ProjectService } from "../projects/project.service.js";
import { WebhookAttempt } from "./webhook-attempt.entity.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";
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
    private readonly projects: ProjectService,
    private readonly outbox: WebhookOutbox,
    private readonly worker: DeliveryWaker,
  ) {}

  /** Creates an endpoint with a fresh signing secret, returned once. */
  async create(ctx: RequestContext, input: CreateWebhookEndpointInput): Promise<NewWebhookEndpoint> {
    const project = await this.projects.requireForActorOrm(ctx.em, ctx.actor, input.projectId);
    const url = validateWebhookUrl(input.url, this.config.webhookAllowPrivateUrls);
    const eventTypes = validateEventTypes(input.eventTypes);
    const existing = await ctx.em.count(WebhookEndpoint, { projectId: project.id });
    if (existing >= maxEndpointsPerProject) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `A project may have at most ${maxEndpointsPerProject} webhook endpoints.`);
    }
    const endpoint = new WebhookEndpoint();
    endpoint.projectId = project.id;
    endpoint.url = url;
    endpoint.eventTypes = eventTypes;
    endpoint.enabled = true;
    endpoint.secret = generateWebhookSecret();
    endpoint.createdAt = this.clock.now();
    await ctx.em.insert(endpoint);
    this.outbox.invalidate(project.id);
    return { endpoint, secret: endpoint.secret };
  }

  async list(ctx: RequestContext, projectId: string): Promise<WebhookEndpoint[]> {
    const project = await this.projects.requireForActorOrm(ctx.em, ctx.actor, projectId);
    return ctx.em.find(WebhookEndpoint, { projectId: project.id }, { orderBy: { createdAt: "asc", id: "asc" } });
  }

  /** Changes an endpoint's URL, event types or enabled flag (re-enabling resumes its pending deliveries). */
  async update(ctx: RequestContext, id: string, input: UpdateWebhookEndpointInput): Promise<WebhookEndpoint> {
    const endpoint = await this.requireEndpoint(ctx, id);
    const changes: Partial<Pick<WebhookEndpoint, "url" | "eventTypes" | "enabled">> = {};
    if (input.url !== null && input.url !== undefined) changes.url = validateWebhookUrl(input.url, this.config.webhookAllowPrivateUrls);
    if (input.eventTypes !== null && input.eventTypes !== undefined) changes.eventTypes = validateEventTypes(input.eventTypes);
    if (typeof input.enabled === "boolean") changes.enabled = input.enabled;
    if (Object.keys(changes).length === 0) return endpoint;
    await ctx.em.nativeUpdate(WebhookEndpoint, { id: endpoint.id }, changes);
    Object.assign(endpoint, changes);
    this.outbox.invalidate(endpoint.projectId);
    if (changes.enabled) this.worker.wake();
    return endpoint;
  }

  /** Deletes an endpoint with its deliveries and their attempts (nothing more is sent to it). */
  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    const endpoint = await this.requireEndpoint(ctx, id);
    // A fresh fork: the transaction's flush must not write back anything this request loaded.
    await inTransaction(ctx.em.fork(), async (tx) => {
      await tx.em
        .getConnection()
        .execute(
          "delete from webhook_attempts where delivery_id in (select id from webhook_deliveries where endpoint_id = ?)",
          [endpoint.id],
          "run",
          tx.em.getTransactionContext(),
        );
      await tx.em.nativeDelete(WebhookDelivery, { endpointId: endpoint.id });
      await tx.em.nativeDelete(WebhookEndpoint, { id: endpoint.id });
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
    const updated = await ctx.em.nativeUpdate(WebhookEndpoint, { id: endpoint.id, secret: endpoint.secret }, changes);
    if (updated !== 1) throw new AppError(ErrorCode.BAD_USER_INPUT, "The secret was rotated concurrently; try again.");
    Object.assign(endpoint, changes);
    return { endpoint, secret: changes.secret };
  }

  /** A project's deliveries, newest first, each with its attempts (two statements per page). */
  async deliveries(
    ctx: RequestContext,
    args: { projectId: string; endpointId?: string | null; status?: WebhookDeliveryStatus | null; first?: number | null; after?: string | null },
  ): Promise<Connection<WebhookDelivery>> {
    const project = await this.projects.requireForActorOrm(ctx.em, ctx.actor, args.projectId);
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, ["number", "string"]);
    const where: Record<string, unknown>[] = [{ projectId: project.id }];
    if (args.endpointId) where.push({ endpointId: args.endpointId });
    if (args.status) where.push({ status: args.status });
    if (after) {
      const [createdAt, id] = after as [number, string];
      where.push({ $or: [{ createdAt: { $lt: new Date(createdAt) } }, { createdAt: new Date(createdAt), id: { $lt: id } }] });
    }
    const rows = await ctx.em.find(WebhookDelivery, { $and: where }, { orderBy: { createdAt: "desc", id: "desc" }, limit: limit + 1 });
    const connection = toConnection(rows, limit, (delivery) => encodeCursor([delivery.createdAt.getTime(), delivery.id]));
    await attachAttempts(
      ctx.em,
      connection.edges.map((edge) => edge.node),
    );
    return connection;
  }

  /**
   * Re-queues a FAILED delivery for one more attempt, now (same webhook-id, fresh signature). If
   * that attempt fails too the delivery is FAILED again; retry it again once the receiver is fixed.
   */
  async retry(ctx: RequestContext, id: string): Promise<WebhookDelivery> {
    const delivery = isPlausibleId(id) ? await ctx.em.findOne(WebhookDelivery, { id }) : null;
    if (!delivery) throw new AppError(ErrorCode.NOT_FOUND, "Webhook delivery not found.");
    await this.projects.requireForActorOrm(ctx.em, ctx.actor, delivery.projectId);
    if (delivery.status !== WebhookDeliveryStatus.FAILED) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, `Only a FAILED delivery can be retried; this one is ${delivery.status}.`);
    }
    const now = this.clock.now();
    const changes = { status: WebhookDeliveryStatus.PENDING, nextAttemptAt: now, completedAt: null, claimedUntil: null };
    const updated = await ctx.em.nativeUpdate(WebhookDelivery, { id: delivery.id, status: WebhookDeliveryStatus.FAILED }, changes);
    if (updated !== 1) throw new AppError(ErrorCode.BAD_USER_INPUT, "The delivery is no longer FAILED.");
    Object.assign(delivery, changes);
    await attachAttempts(ctx.em, [delivery]);
    this.worker.wake();
    return delivery;
  }

  /** An endpoint the caller may manage: NOT_FOUND for an unknown id. */
  private async requireEndpoint(ctx: RequestContext, id: string): Promise<WebhookEndpoint> {
    const endpoint = isPlausibleId(id) ? await ctx.em.findOne(WebhookEndpoint, { id }) : null;
    if (!endpoint) throw new AppError(ErrorCode.NOT_FOUND, "Webhook endpoint not found.");
    await this.projects.requireForActorOrm(ctx.em, ctx.actor, endpoint.projectId);
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

async function attachAttempts(em: EntityManager, deliveries: WebhookDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  const attempts = await em.find(
    WebhookAttempt,
    { deliveryId: { $in: deliveries.map((delivery) => delivery.id) } },
    { orderBy: { attemptNumber: "asc", id: "asc" } },
  );
  const byDelivery = new Map<string, WebhookAttempt[]>();
  for (const attempt of attempts) {
    const list = byDelivery.get(attempt.deliveryId) ?? [];
    list.push(attempt);
    byDelivery.set(attempt.deliveryId, list);
  }
  for (const delivery of deliveries) delivery.attempts = byDelivery.get(delivery.id) ?? [];
}
