import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { isAppError } from "../errors/app-error.js";
import { ErrorCode } from "../errors/codes.js";

/** The `outcome` of an operation that succeeded (otherwise its contract code). */
export const okOutcome = "OK";

/**
 * Why sessions were revoked: an explicit `revokeSession`, or a kill switch (SPEC §9): the policy
 * turned off, a member disabled or demoted, or a tightening the running session no longer passes
 * (read-write disallowed, approval required for all, its user protected).
 */
export type RevocationCause =
  | "explicit"
  | "policy_disabled"
  | "member_disabled"
  | "member_role_changed"
  | "read_write_disallowed"
  | "approval_required"
  | "user_protected"
  | (string & {});

/** What a webhook attempt came to: delivered, given up for good, or scheduled again. */
export type WebhookAttemptOutcome = "succeeded" | "failed" | "retry";

/** What the gauges read when scraped. */
export interface ScrapeSources {
  /** Webhook deliveries still to send (PENDING), across every instance. */
  pendingWebhookDeliveries(): Promise<number>;
  /** `auditEventAdded` subscribers listening on this instance. */
  liveSubscribers(): number;
}

/** How long a scrape waits for the outbox count before reporting it unknown (NaN). */
const scrapeQueryTimeoutMs = 2000;

/**
 * The application's Prometheus metrics (SPEC §10), on a registry of its own: two apps in one
 * process (the tests) never share a counter. Built by the composition root and handed to the code
 * that makes each decision; nothing reaches it through a global. Counters count whether or not
 * METRICS_PORT is set; only the listener that serves them is optional.
 */
export class Metrics {
  readonly registry = new Registry();
  /** GraphQL operations by root field (`operation`), `outcome` (OK or the first error's code) and `transport` (http, ws). */
  readonly graphqlOperations: Counter<"operation" | "outcome" | "transport">;
  /** createImpersonationToken calls by outcome. */
  readonly tokensCreated: Counter<"outcome">;
  /** authenticateImpersonationToken calls by outcome. */
  readonly tokenExchanges: Counter<"outcome">;
  /** Sessions actually revoked (not the no-op of revoking one twice), by cause. */
  readonly sessionsRevoked: Counter<"cause">;
  /** Approval steps by outcome: requested, approved, denied, or the error code of a refused step. */
  readonly approvalRequests: Counter<"outcome">;
  /** Webhook delivery attempts by outcome. */
  readonly webhookDeliveries: Counter<"outcome">;
  /** Calls refused RATE_LIMITED, by the limit that refused them (`credential`, `token`). */
  readonly rateLimited: Counter<"limit">;
  private processDefaults = false;

  constructor(sources: ScrapeSources) {
    const registers = [this.registry];
    this.graphqlOperations = new Counter({
      name: "masquerade_graphql_operations_total",
      help: "GraphQL operations by root field, outcome (OK or the first error's code) and transport.",
      labelNames: ["operation", "outcome", "transport"],
      registers,
    });
    this.tokensCreated = new Counter({ name: "masquerade_impersonation_tokens_created_total", help: "createImpersonationToken calls by outcome (OK or the error code).", labelNames: ["outcome"], registers });
    this.tokenExchanges = new Counter({ name: "masquerade_impersonation_token_exchanges_total", help: "authenticateImpersonationToken calls by outcome (OK or the error code).", labelNames: ["outcome"], registers });
    this.sessionsRevoked = new Counter({ name: "masquerade_sessions_revoked_total", help: "Impersonation sessions revoked, by cause.", labelNames: ["cause"], registers });
    this.approvalRequests = new Counter({ name: "masquerade_approval_requests_total", help: "Impersonation approval steps by outcome: requested, approved, denied, or the error code of a refused step.", labelNames: ["outcome"], registers });
    this.webhookDeliveries = new Counter({ name: "masquerade_webhook_deliveries_total", help: "Webhook delivery attempts by outcome: succeeded, failed (given up), retry (scheduled again).", labelNames: ["outcome"], registers });
    this.rateLimited = new Counter({ name: "masquerade_rate_limited_total", help: "Calls refused RATE_LIMITED, by limit.", labelNames: ["limit"], registers });
    new Gauge({
      name: "masquerade_webhook_outbox_pending",
      help: "Webhook deliveries not yet sent or given up (all instances); NaN when the database did not answer in time.",
      registers,
      async collect() {
        this.set(await withinTimeout(sources.pendingWebhookDeliveries(), scrapeQueryTimeoutMs).catch(() => NaN));
      },
    });
    new Gauge({
      name: "masquerade_live_subscribers",
      help: "auditEventAdded subscriptions listening on this instance.",
      registers,
      collect() {
        this.set(sources.liveSubscribers());
      },
    });
  }

  /** Adds prom-client's process and Node.js metrics (CPU, memory, event loop, GC), once; for the server that serves them. */
  collectProcessDefaults(): void {
    if (this.processDefaults) return;
    this.processDefaults = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The outcome label of a failed call: its contract code, or INTERNAL_SERVER_ERROR for anything unexpected. */
export function outcomeOf(error: unknown): string {
  return isAppError(error) ? error.code : ErrorCode.INTERNAL_SERVER_ERROR;
}

/** Runs `work` and counts its outcome on `counter` (`success`, or the code it failed with); returns or throws what it does. */
export async function countingOutcome<T>(counter: Counter<"outcome">, work: Promise<T>, success: string = okOutcome): Promise<T> {
  try {
    const result = await work;
    counter.inc({ outcome: success });
    return result;
  } catch (error) {
    counter.inc({ outcome: outcomeOf(error) });
    throw error;
  }
}

/** `promise`, or a rejection after `ms`. */
export function withinTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
