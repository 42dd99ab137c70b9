import type { Clock } from "../clock.js";
import type { Metrics } from "../metrics/metrics.js";

export interface FailureLimitOptions {
  /** Failures allowed in a burst. */
  burst: number;
  /** Failures forgiven per second once the burst is spent. */
  refillPerSecond: number;
}

/**
 * Limits *failed* attempts (wrong credentials, guessed tokens) per key, with a token bucket.
 * Successful calls never consume anything, so an honest burst of valid calls is never limited;
 * guessing is. Buckets that have refilled are forgotten, so memory stays bounded by active abusers.
 */
export class FailureLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly options: FailureLimitOptions,
    private readonly metrics: Metrics,
  ) {}

  /**
   * True when `key` has used up its failures and should be answered RATE_LIMITED (counted, by the
   * key's kind: the part before its first colon, `credential` or `token`).
   */
  isLimited(key: string): boolean {
    const bucket = this.refill(key);
    const limited = bucket !== undefined && bucket.tokens < 1;
    if (limited) this.metrics.rateLimited.inc({ limit: key.split(":", 1)[0]! });
    return limited;
  }

  recordFailure(key: string): void {
    const bucket = this.refill(key) ?? { tokens: this.options.burst, at: this.clock.now().getTime() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.sweep();
  }

  private refill(key: string): { tokens: number; at: number } | undefined {
    const bucket = this.buckets.get(key);
    if (!bucket) return undefined;
    const now = this.clock.now().getTime();
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.refillPerSecond);
    bucket.at = now;
    if (bucket.tokens >= this.options.burst) {
      this.buckets.delete(key);
      return undefined;
    }
    return bucket;
  }

  private sweep(): void {
    for (const key of [...this.buckets.keys()]) this.refill(key);
  }
}
