import { setMaxListeners } from "node:events";
import type { EntityManager, MikroORM } from "@mikro-orm/core";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config.js";
import type { DatabaseKind } from "../../db/orm.js";
import { inTransaction } from "../../db/transaction.js";
import { WebhookAttempt } from "./webhook-attempt.entity.js";
import { WebhookDeliveryStatus } from "./webhook-delivery-status.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";
import { postWebhook, type WebhookPostOutcome } from "./webhook-http.js";
import { webhookSignatureHeader } from "./webhook-signature.js";

/** Deliveries claimed (and sent concurrently) per round. */
const batchSize = 20;
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
 * Sends queued deliveries. Deliveries are claimed with one conditional UPDATE (on PostgreSQL via
 * `FOR UPDATE SKIP LOCKED`), so any number of instances can run workers on one database without
 * sending a delivery twice at the same time. Woken right after an audited commit, and polling
 * periodically so deliveries left by a restart, a retry or a crash resume on their own.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private wanted = false;
  private stopped = true;
  private readonly shutdown = new AbortController();

  constructor(
    private readonly orm: MikroORM,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly databaseKind: DatabaseKind,
  ) {
    // Each delivery of a batch in flight listens for shutdown: a full batch is not a leak.
    setMaxListeners(batchSize * 2, this.shutdown.signal);
  }

  start(): void {
    if (!this.config.webhookWorkerEnabled || !this.stopped || this.shutdown.signal.aborted) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.config.webhookPollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Asks for a round soon; rounds never overlap within one instance. */
  wake(): void {
    if (this.stopped) return;
    this.wanted = true;
    this.running ??= this.loop().finally(() => {
      this.running = null;
      if (this.wanted && !this.stopped) this.wake();
    });
  }

  /**
   * Stops polling, cuts in-flight sends short (their claims are released, so the next worker
   * sends them again at once) and waits for the current round to finish writing.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.shutdown.abort();
    await this.running;
  }

  /** Runs rounds until there is nothing due (also used by tests to step the worker). */
  async runOnce(): Promise<number> {
    const em = this.orm.em.fork();
    const claimed = await this.claim(em);
    await Promise.all(claimed.map((delivery) => this.deliver(em, delivery)));
    return claimed.length;
  }

  private async loop(): Promise<void> {
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      try {
        // A full batch suggests more is due: go again without waiting for the next poll.
        if ((await this.runOnce()) === batchSize) this.wanted = true;
      } catch (error) {
        if (!this.stopped) console.error("[masquerade] webhook worker round failed:", error instanceof Error ? error.message : error);
      }
    }
  }

  /** Claims up to a batch of due deliveries of enabled endpoints; a claim no other worker can take. */
  private async claim(em: EntityManager): Promise<WebhookDelivery[]> {
    const now = this.clock.now();
    const claimedUntil = new Date(now.getTime() + this.config.webhookTimeoutMs + claimMarginMs);
    const connection = em.getConnection();
    let ids: string[];
    if (this.databaseKind === "postgresql") {
      const rows: Array<{ id: string }> = await connection.execute(
        `with due as (
           select d.id from webhook_deliveries d
           join webhook_endpoints e on e.id = d.endpoint_id and e.enabled = true
           where d.status = 'PENDING' and d.next_attempt_at <= ? and (d.claimed_until is null or d.claimed_until < ?)
           order by d.next_attempt_at
           limit ?
           for update of d skip locked
         )
         update webhook_deliveries w set claimed_until = ? from due where w.id = due.id returning w.id`,
        [now, now, batchSize, claimedUntil],
        "all",
      );
      ids = rows.map((row) => row.id);
    } else {
      const candidates: Array<{ id: string }> = await connection.execute(
        `select d.id from webhook_deliveries d
         join webhook_endpoints e on e.id = d.endpoint_id and e.enabled = 1
         where d.status = 'PENDING' and d.next_attempt_at <= ? and (d.claimed_until is null or d.claimed_until < ?)
         order by d.next_attempt_at
         limit ?`,
        [now.getTime(), now.getTime(), batchSize],
        "all",
      );
      ids = [];
      for (const { id } of candidates) {
        // The affected-row count decides: another instance may have claimed it since the select.
        const won = await em.nativeUpdate(
          WebhookDelivery,
          { id, status: WebhookDeliveryStatus.PENDING, $or: [{ claimedUntil: null }, { claimedUntil: { $lt: now } }] },
          { claimedUntil },
        );
        if (won === 1) ids.push(id);
      }
    }
    if (ids.length === 0) return [];
    // Unmanaged copies: nothing the worker reads is ever flushed back by a later transaction.
    const deliveries = await em.find(WebhookDelivery, { id: { $in: ids } }, { orderBy: { nextAttemptAt: "asc" }, disableIdentityMap: true });
    for (const delivery of deliveries) delivery.claimedUntil = claimedUntil;
    return deliveries;
  }

  private async deliver(em: EntityManager, delivery: WebhookDelivery): Promise<void> {
    const claim = delivery.claimedUntil!;
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
