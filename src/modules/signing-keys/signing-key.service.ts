import { logger } from "../../log/logger.js";
import { createPrivateKey, createPublicKey, randomUUID, type JsonWebKey, type KeyObject } from "node:crypto";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import type { Clock } from "../../clock.js";
import type { Database, Sql } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { lockUntilCommit } from "../../db/dialect.js";
import { SigningKey } from "./signing-key.entity.js";
import { signingKeyRepository } from "./signing-key.repository.js";

export const signingAlgorithm = "ES256";

/**
 * How often each instance reloads the keys by default, and the longest interval allowed
 * (SIGNING_KEY_REFRESH_MS): wall-clock, on a timer, whether or not the instance receives traffic.
 */
export const maxKeyRefreshIntervalMs = 60_000;

/**
 * A rotated-in key is published at once but signs only this long after its creation: by then every
 * instance has reloaded the keys at least once (at most `maxKeyRefreshIntervalMs` apart, plus 10 s
 * for the reload itself and clock skew between hosts) and publishes it too, so a client that
 * verifies a new JWT against the JWKS of any instance behind the load balancer finds its key.
 */
export const keyActivationDelayMs = maxKeyRefreshIntervalMs + 10_000;

/**
 * How long a retired key stays published and accepted: the longest a session it may have signed
 * for can live (60 minutes), plus margin.
 */
export const retiredKeyGraceMs = 65 * 60 * 1000;

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  publicKey: KeyObject;
  privateKey: KeyObject | null;
  createdAt: Date;
  retiredAt: Date | null;
}

/**
 * Session-JWT keys, kept in the database so every instance signs and verifies with the same set.
 * Keys are cached in memory; an unknown `kid` triggers one reload (another instance may have rotated).
 */
export class SigningKeyService {
  private keys = new Map<string, LoadedKey>();
  private lastReload = 0;
  /** Reloads started and the newest applied: a slow reload never replaces a newer one's keys. */
  private reloadsStarted = 0;
  private newestApplied = 0;
  private refreshTimer: NodeJS.Timeout | null = null;
  private refreshChain: object | null = null;
  private lastRefreshError = "";

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Loads the keys, creating the first one if the database has none. */
  async init(): Promise<void> {
    await this.reload();
    if (![...this.keys.values()].some((key) => key.retiredAt === null)) {
      await this.createFirstKey();
      await this.reload();
    }
  }

  /**
   * Instances that start together on an empty database must not each create "the" active key: each
   * would sign with its own, which the others have not loaded, do not publish in their JWKS, and
   * (within a second of their last reload) refuse. On PostgreSQL an advisory lock serialises the
   * creators and each re-checks under it, so exactly one first key exists. (On SQLite every
   * transaction takes the database's write lock as it begins, so creators take turns there too.)
   */
  private async createFirstKey(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.lockKeys(tx.sql);
      if (!(await signingKeyRepository.hasUnretired(tx.sql))) await this.createKey(tx.sql);
    });
  }

  /**
   * Rotates in a new key: published at once, the signer after `keyActivationDelayMs`, when the
   * current signer retires; retired keys keep verifying for the grace period after that.
   */
  async rotate(): Promise<string> {
    const takeover = new Date(this.clock.now().getTime() + keyActivationDelayMs);
    const kid = await this.db.transaction(async (tx) => {
      await this.lockKeys(tx.sql);
      await signingKeyRepository.retireUnretired(tx.sql, takeover);
      return this.createKey(tx.sql);
    });
    await this.reload();
    return kid;
  }

  /** Serialises key creation and rotation across instances (PostgreSQL; SQLite has one writer). */
  private lockKeys(sql: Sql): Promise<void> {
    return lockUntilCommit(sql, "masquerade:signing-keys");
  }

  /**
   * Reloads the keys every `intervalMs` (at most `maxKeyRefreshIntervalMs`), on a timer that does not
   * keep the process alive: an instance that receives no request at all still publishes a key
   * rotated in elsewhere before any instance signs with it. Stopped by `stopRefreshing`.
   */
  startRefreshing(intervalMs: number = maxKeyRefreshIntervalMs): void {
    if (!(intervalMs > 0 && intervalMs <= maxKeyRefreshIntervalMs)) throw new Error(`key refresh interval must be between 1 and ${maxKeyRefreshIntervalMs} ms`);
    this.stopRefreshing();
    const chain = {};
    this.refreshChain = chain;
    // A chain of timeouts rather than an interval: a slow database never stacks reloads up.
    const schedule = () => {
      this.refreshTimer = setTimeout(() => {
        void this.reload().then(
          () => {
            if (this.lastRefreshError) logger.info("signing key refresh works again");
            this.lastRefreshError = "";
          },
          (error: unknown) => {
            const message = error instanceof Error ? error.message : String(error);
            if (message !== this.lastRefreshError) logger.error({ err: error }, "signing key refresh failed");
            this.lastRefreshError = message;
          },
        ).finally(() => {
          if (this.refreshChain === chain) schedule();
        });
      }, intervalMs);
      this.refreshTimer.unref();
    };
    schedule();
  }

  stopRefreshing(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.refreshChain = null;
  }

  /**
   * The key that signs now: the newest activated one among those not yet retired (a rotated-in key
   * waits `keyActivationDelayMs`); a fresh install's only key at once; should this instance not
   * have loaded a rotation yet, the newest key still published. Never touches the database (it is
   * called inside transactions).
   */
  signingKey(): { kid: string; key: KeyObject } {
    const now = this.clock.now().getTime();
    const usable = [...this.keys.values()].filter((key) => key.privateKey && this.isPublished(key));
    const current = usable.filter((key) => key.retiredAt === null || key.retiredAt.getTime() > now);
    const activated = current.filter((key) => key.createdAt.getTime() + keyActivationDelayMs <= now);
    const chosen = activated.at(-1) ?? current[0] ?? usable.at(-1);
    if (!chosen?.privateKey) throw new Error("no signing key");
    return { kid: chosen.kid, key: chosen.privateKey };
  }

  /** The public key for a `kid`, or null when it is unknown or past its grace period. */
  async verificationKey(kid: string): Promise<KeyObject | null> {
    let key = this.keys.get(kid);
    if (!key && Date.now() - this.lastReload > 1000) {
      await this.reload();
      key = this.keys.get(kid);
    }
    if (!key || !this.isPublished(key)) return null;
    return key.publicKey;
  }

  /** The JWKS document served at /.well-known/jwks.json. */
  jwks(): { keys: JWK[] } {
    return {
      keys: [...this.keys.values()]
        .filter((key) => this.isPublished(key))
        .map((key) => ({ ...key.publicJwk, kid: key.kid, alg: signingAlgorithm, use: "sig" })),
    };
  }

  private isPublished(key: LoadedKey): boolean {
    return key.retiredAt === null || key.retiredAt.getTime() + retiredKeyGraceMs > this.clock.now().getTime();
  }

  private async createKey(sql: Sql): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(signingAlgorithm, { extractable: true });
    const key = detachedEntity(SigningKey, {
      kid: randomUUID(),
      alg: signingAlgorithm,
      publicJwk: JSON.stringify(await exportJWK(publicKey)),
      privateJwk: JSON.stringify(await exportJWK(privateKey)),
      createdAt: this.clock.now(),
      retiredAt: null,
    });
    await signingKeyRepository.insert(sql, key);
    return key.kid;
  }

  private async reload(): Promise<void> {
    const generation = ++this.reloadsStarted;
    const rows = await signingKeyRepository.findAll(this.db.sql);
    const keys = new Map<string, LoadedKey>();
    const now = this.clock.now().getTime();
    for (const row of rows) {
      const publicJwk = JSON.parse(row.publicJwk) as JWK;
      // Private keys only of keys that may still sign: not retired, or retired but still published.
      const mayStillSign = row.retiredAt === null || row.retiredAt.getTime() + retiredKeyGraceMs > now;
      keys.set(row.kid, {
        kid: row.kid,
        publicJwk,
        publicKey: createPublicKey({ key: publicJwk as JsonWebKey, format: "jwk" }),
        privateKey: mayStillSign ? createPrivateKey({ key: JSON.parse(row.privateJwk) as JsonWebKey, format: "jwk" }) : null,
        createdAt: row.createdAt,
        retiredAt: row.retiredAt,
      });
    }
    if (generation < this.newestApplied) return;
    this.newestApplied = generation;
    this.keys = keys;
    this.lastReload = Date.now();
  }
}
