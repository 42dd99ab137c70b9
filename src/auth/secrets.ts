import { createHash, randomFillSync, randomUUID, timingSafeEqual } from "node:crypto";

/** Prefixes make leaked credentials recognisable to secret scanners. */
export const SecretPrefix = {
  memberApiKey: "mq_key_",
  projectSecret: "mq_secret_",
  publicToken: "mq_public_",
  impersonationToken: "mq_imp_",
  sessionToken: "mq_sess_",
} as const;

const secretBytes = 32;
const entropyPool = Buffer.alloc(secretBytes * 64);
let entropyOffset = entropyPool.length;

/**
 * 256 bits of randomness, URL-safe. The bytes come from the CSPRNG in batches, as node's own
 * randomUUID does: a `randomBytes` call per secret was a visible cost in profiles of the exchange.
 * Each byte of the pool is handed out once.
 */
export function randomSecret(prefix: string): string {
  if (entropyOffset === entropyPool.length) {
    randomFillSync(entropyPool);
    entropyOffset = 0;
  }
  const secret = entropyPool.toString("base64url", entropyOffset, entropyOffset + secretBytes);
  // Handed out: no copy of it stays behind in the pool (heap snapshots, core dumps).
  entropyPool.fill(0, entropyOffset, entropyOffset + secretBytes);
  entropyOffset += secretBytes;
  return prefix + secret;
}

/** Secrets are high-entropy, so a plain SHA-256 is enough to make the stored value useless. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  if (left.length !== right.length) {
    // Still spend the comparison so that the length is the only thing that leaks.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

export function newId(kind: string): string {
  return `${kind}-${randomUUID()}`;
}
