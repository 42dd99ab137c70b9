import { sign, verify, type KeyObject } from "node:crypto";

/**
 * Compact JWS with ES256 on node:crypto, synchronously: WebCrypto (what jose uses) signs on the
 * thread pool and costs several times as much per token, and every authenticateSession signs one.
 * Signatures are raw r‖s (IEEE P1363), as JWS requires.
 */
export function signCompactEs256(header: Record<string, unknown>, payload: Record<string, unknown>, privateKey: KeyObject): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign("sha256", Buffer.from(signingInput), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${signature.toString("base64url")}`;
}

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: unknown;
  signingInput: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWS; null when it is not one. Verifies nothing. */
export function decodeCompactJws(jws: string): DecodedJws | null {
  const parts = jws.split(".");
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as unknown;
    if (!header || typeof header !== "object" || Array.isArray(header)) return null;
    return { header: header as Record<string, unknown>, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, "base64url") };
  } catch {
    return null;
  }
}

/** Whether `jws` carries a valid ES256 signature by `publicKey`; a `crit` header is never accepted. */
export function verifyEs256(jws: DecodedJws, publicKey: KeyObject): boolean {
  if (jws.header.alg !== "ES256" || "crit" in jws.header || jws.signature.length !== 64) return false;
  return verify("sha256", Buffer.from(jws.signingInput), { key: publicKey, dsaEncoding: "ieee-p1363" }, jws.signature);
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
