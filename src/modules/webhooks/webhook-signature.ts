import { createHmac, randomBytes } from "node:crypto";

/** Standard Webhooks secrets: `whsec_` and the base64 of the key bytes. */
export const webhookSecretPrefix = "whsec_";
const secretBytes = 32;

/** A fresh signing secret (256 random bits), shown to the caller once. */
export function generateWebhookSecret(): string {
  return webhookSecretPrefix + randomBytes(secretBytes).toString("base64");
}

/** The HMAC key of a secret: the base64-decoded part after `whsec_`. */
export function webhookSecretKey(secret: string): Buffer {
  const encoded = secret.startsWith(webhookSecretPrefix) ? secret.slice(webhookSecretPrefix.length) : secret;
  return Buffer.from(encoded, "base64");
}

/** One `v1,<base64 HMAC-SHA256>` signature of `${id}.${timestamp}.${body}` (Standard Webhooks). */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", webhookSecretKey(secret)).update(`${id}.${timestampSeconds}.${body}`, "utf8").digest("base64");
  return `v1,${mac}`;
}

/**
 * The `webhook-signature` header: one signature per live secret, space-separated, so that a
 * receiver still holding the previous secret keeps verifying during a rotation's overlap.
 */
export function webhookSignatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((secret) => signWebhook(secret, id, timestampSeconds, body)).join(" ");
}
