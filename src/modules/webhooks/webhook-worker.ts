import { setMaxListeners } from "node:events";
import type { EntityManager, MikroORM } from "@mikro-orm/core";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config.js";
import type { DatabaseKind } from "../../db/orm.js";
import { inTransaction } from "../../db/transaction.js";
import { claimDueDeliveries } from "./webhook-claim.js";
import { WebhookAttempt } from "./webhook-attempt.entity.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";
import { postWebhook, type WebhookPostOutcome } from "./webhook-http.js";
import { webhookSignatureHeader } from "./webhook-signature.js";

/** Sends in flight at once in one instance: a pool refilled as each send finishes. */
const maxInFlight = 64;
/** Sends to one endpoint in flight at once, across all instances: a slow receiver holds no more. */
const maxInFlightPerEndpoint = 4;
/** Sends for one project in flight at once, across all instances: its many endpoints cannot fill the pool. */
const maxInFlightPerProject = 16;
/** A claim outlives the send's timeout by this much, so a crashed worker's claims expire soon. */
const claimMarginMs = 60_000;
/** Retry delays are jittered by up to this fraction either way, so retries of one outage spread out. */
const jitterFraction = 0.2;

/**
 * The nominal delay before attempt `failedAttempts + 1`: base × 2^(failedAttempts − 1), capped.
 * The actual delay is this ±20 % (see `retryDelayMs`).
 */
export function nominalRetryDelayMs(failedAttempts: number, baseMs: number, maxDelayMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, failedAttempts - 1), maxDelayMs);
}

export function retryDelayMs(failedAttempts: number, baseMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const nominal = nominalRetryDelayMs(failedAttempts, baseMs, maxDelayMs);
  return Math.round(nominal * (1 - jitterFraction + 2 * jitterFraction * random()));
}

/**
 * Sends queued deliveries. Sends never wait on each other: the worker keeps up to `maxInFlight`
 * sends going and claims more whenever one finishes, it is woken (right after an audited commit)
 * or it polls (so deliveries left by a restart, a retry or a crash resume on their own). Claims
 * are fair (see `claimDueDeliveries`): at most `maxInFlightPerEndpoint` sends per endpoint and
 * `maxInFlightPerProject` per project, round-robin, so a receiver that never answers costs its own
 * endpoint the timeout and nobody else anything. Claims are conditional updates (on PostgreSQL via
 * `FOR UPDATE SKIP LOCKED`), so any number of instances can run workers on one database without
 * sending a delivery twice at the same time.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  /** The claim loop, while it runs; one at a time per instance. */
  private claiming: Promise<void> | null = null;
  private wanted = false;
  private stopped = true;
  private readonly sends = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();

  constructor(
    private readonly orm: MikroORM,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly databaseKind: DatabaseKind,
  ) {
    // Each send in flight listens for shutdown: a full pool is not a leak.
    setMaxListeners(maxInFlight * 2, this.shutdown.signal);
  }

  start(): void {
    if (!this.config.webhookWorkerEnabled || !this.stopped || this.shutdown.signal.aborted) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.config.webhookPollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Asks for a claim soon (to fill free slots of the pool); claims never overlap within one instance. */
  wake(): void {
    if (this.stopped) return;
    this.wanted = true;
    this.claiming ??= this.fill().finally(() => {
      this.claiming = null;
      if (this.wanted && !this.stopped) this.wake();
    });
  }

  /**
   * Stops polling, cuts in-flight sends short (their claims are released, so the next worker
   * sends them again at once) and waits for every send to finish writing.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.shutdown.abort();
    await this.claiming;
    await Promise.all(this.sends);
  }

  /**
   * Claims what is due now (within the limits and the pool's free slots) and waits for those sends
   * to be recorded; returns how many it claimed. For tests that step a worker that was not started.
   */
  async runOnce(): Promise<number> {
    const launched = await this.claimAndLaunch(maxInFlight - this.sends.size);
    await Promise.all(launched);
    return launched.length;
  }

  private async fill(): Promise<void> {
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      const free = maxInFlight - this.sends.size;
      if (free <= 0) return; // the next send to finish wakes the worker
      try {
        // Every free slot taken suggests more is due: claim again without waiting for a wake.
        if ((await this.claimAndLaunch(free)).length === free) this.wanted = true;
      } catch (error) {
        if (!this.stopped) console.error("[masquerade] webhook worker claim failed:", error instanceof Error ? error.message : error);
      }
    }
  }

  /** Claims up to `count` deliveries and starts sending each; returns the sends. */
  private async claimAndLaunch(count: number): Promise<Array<Promise<void>>> {
    const em = this.orm.em.fork();
    const now = this.clock.now();
    const claimedUntil = new Date(now.getTime() + this.config.webhookTimeoutMs + claimMarginMs);
    const ids = await claimDueDeliveries(em, this.databaseKind, now, claimedUntil, {
      count,
      perEndpoint: maxInFlightPerEndpoint,
      perProject: maxInFlightPerProject,
    });
    if (ids.length === 0) return [];
    // Unmanaged copies: nothing the worker reads is ever flushed back by a later transaction.
    const deliveries = await em.find(WebhookDelivery, { id: { $in: ids } }, { orderBy: { nextAttemptAt: "asc" }, disableIdentityMap: true });
    return deliveries.map((delivery) => {
      delivery.claimedUntil = claimedUntil;
      const send: Promise<void> = this.deliver(this.orm.em.fork(), delivery)
        .catch((error: unknown) => {
          // The claim stays until it lapses; the delivery is then sent again.
          if (!this.stopped) console.error("[masquerade] webhook delivery could not be recorded:", error instanceof Error ? error.message : error);
        })
        .finally(() => {
          this.sends.delete(send);
          this.wake();
        });
      this.sends.add(send);
      return send;
    });
  }

  private async deliver(em: EntityManager, delivery: WebhookDelivery): Promise<void> {
    const claim = delivery.claimedUntil!;
    if (this.shutdown.signal.aborted) {
      // Claimed while shutting down: hand it straight back.
      await em.nativeUpdate(WebhookDelivery, { id: delivery.id, claimedUntil: claim }, { claimedUntil: null });
      return;
    }
    const endpoint = await em.findOne(WebhookEndpoint, { id: delivery.endpointId }, { disableIdentityMap: true });
    if (!endpoint) {
      // Deleted since it was queued (its deliveries go with it); nothing to send.
      await em.nativeDelete(WebhookDelivery, { id: delivery.id });
      return;
    }
    const startedAt = this.clock.now();
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt.getTime() > startedAt.getTime()) {
      secrets.push(endpoint.previousSecret);
    }
    const outcome = await postWebhook({
      url: endpoint.url,
      body: delivery.payload,
      headers: {
        "webhook-id": delivery.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": webhookSignatureHeader(secrets, delivery.id, timestamp, delivery.payload),
      },
      timeoutMs: this.config.webhookTimeoutMs,
      allowPrivate: this.config.webhookAllowPrivateUrls,
      signal: this.shutdown.signal,
    });
    if (outcome.aborted) {
      await em.nativeUpdate(WebhookDelivery, { id: delivery.id, claimedUntil: claim }, { claimedUntil: null });
      return;
    }
    await this.record(em, delivery, claim, startedAt, outcome);
  }

  /** Writes the attempt and the delivery's new state together, if our claim still holds. */
  private async record(em: EntityManager, delivery: WebhookDelivery, claim: Date, startedAt: Date, outcome: WebhookPostOutcome): Promise<void> {
    const attemptNumber = delivery.attemptCount + 1;
    const finishedAt = this.clock.now();
    let changes: Partial<WebhookDelivery>;
    if (outcome.ok) {
      changes = { status: WebhookDeliveryStatus.SUCCEEDED, completedAt: finishedAt, nextAttemptAt: null, lastError: null };
    } else if (attemptNumber >= this.config.webhookMaxAttempts) {
      changes = { status: WebhookDeliveryStatus.FAILED, completedAt: finishedAt, nextAttemptAt: null, lastError: outcome.error };
    } else {
      const delay = retryDelayMs(attemptNumber, this.config.webhookRetryBaseMs, this.config.webhookRetryMaxDelayMs);
      changes = { nextAttemptAt: new Date(finishedAt.getTime() + delay), lastError: outcome.error };
    }
    await inTransaction(em.fork(), async (tx) => {
      const updated = await tx.em.nativeUpdate(
        WebhookDelivery,
        { id: delivery.id, claimedUntil: claim },
        { ...changes, attemptCount: attemptNumber, claimedUntil: null },
      );
      if (updated !== 1) return; // deleted, or our claim lapsed and another worker took over
      const attempt = new WebhookAttempt();
      attempt.deliveryId = delivery.id;
      attempt.attemptNumber = attemptNumber;
      attempt.startedAt = startedAt;
      attempt.durationMs = outcome.durationMs;
      attempt.statusCode = outcome.statusCode;
      attempt.error = outcome.error;
      attempt.success = outcome.ok;
      await tx.em.insert(attempt);
    });
  }
}
