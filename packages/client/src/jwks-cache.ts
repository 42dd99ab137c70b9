import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { Clock } from "./clock.js";
import { MasqueradeError } from "./errors.js";

export interface JwksCacheOptions {
  url: string;
  clock: Clock;
  fetch: typeof fetch;
  /** A key set this old is fetched again before it is used (the server lets the JWKS be cached 5 minutes). */
  maxAgeMs: number;
  /** After a fetch, an unknown `kid` does not cause another for this long: a flood of forged kids costs one request. */
  cooldownMs: number;
  timeoutMs: number;
}

/** A key set as fetched: its keys, and the issuer the server announced beside them. */
export interface KeySet {
  getKey: JWTVerifyGetKey;
  /**
   * The `issuer` member of the JWK Set (RFC 7517 §5 allows members beyond `keys`): the server's
   * PUBLIC_URL, the `iss` of the JWTs these keys sign. Undefined when the server announces none.
   */
  issuer: string | undefined;
}

/**
 * The server's JWKS, fetched once and kept: verifying a JWT needs no request. A JWT naming a `kid`
 * the set does not hold (a rotation: the server publishes a key 70 s before it signs with it) waits
 * for a fetch; a set older than `maxAgeMs` (so that a retired key stops verifying) is fetched again
 * in the background while the held keys go on verifying. Either fetch happens at most once per
 * `cooldownMs`, so neither forged key ids nor a server that cannot be reached make every check wait
 * on the network or hammer the server. Concurrent callers share one fetch.
 */
export class JwksCache {
  private keys: (KeySet & { kids: Set<string>; fetchedAt: number }) | null = null;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastFailure: MasqueradeError | null = null;
  private inFlight: Promise<void> | null = null;
  /** How many times the JWKS was fetched (for tests and metrics). */
  fetchCount = 0;

  constructor(private readonly options: JwksCacheOptions) {}

  /** The key set to verify a JWT signed with `kid`, fetched (again) when needed and allowed. */
  async keySetFor(kid: string | undefined): Promise<KeySet> {
    const mayFetch = this.options.clock.now().getTime() - this.lastAttemptAt >= this.options.cooldownMs;
    if (!this.keys) {
      // Nothing to verify with yet: wait for the first set (within the cooldown, the last failure).
      if (!mayFetch && !this.inFlight && this.lastFailure) throw this.lastFailure;
      await this.refetch();
      return this.keySet();
    }
    const unknownKid = kid !== undefined && !this.keys.kids.has(kid);
    if (unknownKid && (mayFetch || this.inFlight)) {
      // Unreachable: the set held still verifies what it holds.
      await this.refetch().catch(() => undefined);
    } else if (this.isStale() && mayFetch) {
      this.refetch().catch(() => undefined);
    }
    return this.keySet();
  }

  /** The held keys and their issuer, from one and the same fetched document. */
  private keySet(): KeySet {
    const { getKey, issuer } = this.keys!;
    return { getKey, issuer };
  }

  /** Whether the key set as it stands publishes `kid` (a remembered JWT's key may have retired). */
  holds(kid: string): boolean {
    return this.keys?.kids.has(kid) ?? false;
  }

  /** Whether the held set is older than maxAgeMs. */
  isStale(): boolean {
    return !this.keys || this.options.clock.now().getTime() - this.keys.fetchedAt >= this.options.maxAgeMs;
  }

  private refetch(): Promise<void> {
    this.inFlight ??= this.load().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async load(): Promise<void> {
    this.lastAttemptAt = this.options.clock.now().getTime();
    this.fetchCount++;
    this.lastFailure = null;
    let jwks: JSONWebKeySet & { issuer?: unknown };
    try {
      const response = await this.options.fetch(this.options.url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(this.options.timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      jwks = (await response.json()) as JSONWebKeySet;
      if (!jwks || !Array.isArray(jwks.keys)) throw new Error("not a JSON Web Key Set");
    } catch (error) {
      throw (this.lastFailure = new MasqueradeError("NETWORK_ERROR", `the session-JWT keys at ${this.options.url} could not be fetched: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      }));
    }
    const kids = new Set(jwks.keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === "string"));
    const issuer = typeof jwks.issuer === "string" && jwks.issuer.length > 0 ? jwks.issuer : undefined;
    this.keys = { kids, getKey: createLocalJWKSet(jwks), issuer, fetchedAt: this.options.clock.now().getTime() };
  }
}
