import { logger } from "../../log/logger.js";
import { setMaxListeners } from "node:events";
import { newId } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config.js";
import type { Database } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import type { Metrics, WebhookAttemptOutcome } from "../../metrics/metrics.js";
import { WebhookAttempt } from "./webhook-attempt.entity.js";
import { webhookAttemptRepository } from "./webhook-attempt.repository.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";
import type { WebhookDelivery } from "./webhook-delivery.entity.js";
import { webhookDeliveryRepository } from "./webhook-delivery.repository.js";
import { webhookEndpointRepository } from "./webhook-endpoint.repository.js";
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
 * are fair (see `webhookDeliveryRepository.claimDue`): at most `maxInFlightPerEndpoint` sends per endpoint and
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
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly metrics: Metrics,
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

  /** Deliveries still to send (PENDING) on every instance: the outbox gauge, read on each scrape. */
  pendingDeliveries(): Promise<number> {
    return webhookDeliveryRepository.countPending(this.db.sql);
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
        if (!this.stopped) logger.error({ err: error }, "webhook worker claim failed");
      }
    }
  }

  /** Claims up to `count` deliveries and starts sending each; returns the sends. */
  private async claimAndLaunch(count: number): Promise<Array<Promise<void>>> {
    const now = this.clock.now();
    const claimedUntil = new Date(now.getTime() + this.config.webhookTimeoutMs + claimMarginMs);
    const ids = await webhookDeliveryRepository.claimDue(this.db.sql, now, claimedUntil, {
      count,
      perEndpoint: maxInFlightPerEndpoint,
      perProject: maxInFlightPerProject,
    });
    if (ids.length === 0) return [];
    const deliveries = await webhookDeliveryRepository.byIds(this.db.sql, ids);
    return deliveries.map((delivery) => {
      delivery.claimedUntil = claimedUntil;
      const send: Promise<void> = this.deliver(delivery)
        .catch((error: unknown) => {
          // The claim stays until it lapses; the delivery is then sent again.
          if (!this.stopped) logger.error({ err: error }, "webhook delivery could not be recorded");
        })
        .finally(() => {
          this.sends.delete(send);
          this.wake();
        });
      this.sends.add(send);
      return send;
    });
  }

  private async deliver(delivery: WebhookDelivery): Promise<void> {
    const claim = delivery.claimedUntil!;
    if (this.shutdown.signal.aborted) {
      // Claimed while shutting down: hand it straight back.
      await webhookDeliveryRepository.releaseClaim(this.db.sql, delivery.id, claim);
      return;
    }
    const endpoint = await webhookEndpointRepository.findById(this.db.sql, delivery.endpointId);
    if (!endpoint) {
      // Deleted since it was queued (its deliveries go with it); nothing to send.
      await webhookDeliveryRepository.delete(this.db.sql, delivery.id);
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
      await webhookDeliveryRepository.releaseClaim(this.db.sql, delivery.id, claim);
      return;
    }
    await this.record(delivery, claim, startedAt, outcome);
  }

  /** Writes the attempt and the delivery's new state together, if our claim still holds. */
  private async record(delivery: WebhookDelivery, claim: Date, startedAt: Date, outcome: WebhookPostOutcome): Promise<void> {
    const attemptNumber = delivery.attemptCount + 1;
    const finishedAt = this.clock.now();
    const finished = outcome.ok || attemptNumber >= this.config.webhookMaxAttempts;
    const nextAttemptAt = finished
      ? null
      : new Date(finishedAt.getTime() + retryDelayMs(attemptNumber, this.config.webhookRetryBaseMs, this.config.webhookRetryMaxDelayMs));
    await this.db.transaction(async (tx) => {
      let updated: number;
      if (!nextAttemptAt) {
        updated = await webhookDeliveryRepository.complete(tx.sql, delivery.id, claim, {
          status: outcome.ok ? WebhookDeliveryStatus.SUCCEEDED : WebhookDeliveryStatus.FAILED,
          completedAt: finishedAt,
          lastError: outcome.ok ? null : outcome.error,
          attemptCount: attemptNumber,
        });
      } else {
        updated = await webhookDeliveryRepository.scheduleRetry(tx.sql, delivery.id, claim, {
          nextAttemptAt,
          lastError: outcome.error,
          attemptCount: attemptNumber,
        });
      }
      if (updated !== 1) return; // deleted, or our claim lapsed and another worker took over
      await webhookAttemptRepository.record(
        tx.sql,
        detachedEntity(WebhookAttempt, {
          id: newId("attempt"),
          deliveryId: delivery.id,
          attemptNumber,
          startedAt,
          durationMs: outcome.durationMs,
          statusCode: outcome.statusCode,
          error: outcome.error,
          success: outcome.ok,
        }),
      );
      const counted: WebhookAttemptOutcome = outcome.ok ? "succeeded" : nextAttemptAt ? "retry" : "failed";
      tx.afterCommit(() => this.metrics.webhookDeliveries.inc({ outcome: counted }));
    });
  }
}
