import proxyaddr from "proxy-addr";

/** The only reader of process.env: everything else receives a Config. */
export interface Config {
  port: number;
  databaseUrl: string;
  redisUrl: string | undefined;
  publicUrl: string;
  production: boolean;
  /** Max HTTP body size in bytes; larger requests get 413. */
  maxBodyBytes: number;
  /** Path of an NDJSON audit stream: "-" or "stdout" for stdout, unset for none. */
  auditLogFile: string | undefined;
  /** Allow webhook URLs on loopback/private addresses even in production. */
  webhookAllowPrivateUrls: boolean;
  /** Per-attempt timeout of a webhook delivery (WEBHOOK_TIMEOUT_MS, default 10 s). */
  webhookTimeoutMs: number;
  /** Attempts per delivery before it is marked FAILED (WEBHOOK_MAX_ATTEMPTS, default 8). */
  webhookMaxAttempts: number;
  /** Delay before the first retry; doubles each time, ±20 % jitter (WEBHOOK_RETRY_BASE_MS, default 60 s). */
  webhookRetryBaseMs: number;
  /** Cap on one retry delay (WEBHOOK_RETRY_MAX_DELAY_MS, default 6 h). */
  webhookRetryMaxDelayMs: number;
  /** How often the server pings each WebSocket client (WS_PING_INTERVAL_MS, default 30 s). */
  wsPingIntervalMs: number;
  /** How often the delivery worker looks for due deliveries besides being woken (WEBHOOK_POLL_INTERVAL_MS, default 1 s). */
  webhookPollIntervalMs: number;
  /** How long a rotated-out secret keeps signing (WEBHOOK_SECRET_OVERLAP_SECONDS, default 24 h). */
  webhookSecretOverlapSeconds: number;
  /** Run the delivery worker in this instance (WEBHOOK_WORKER=false turns it off; deliveries are still queued). */
  webhookWorkerEnabled: boolean;
  logLevel: "silent" | "info";
  /** How often each instance reloads the session-JWT signing keys (SIGNING_KEY_REFRESH_MS, default and maximum 60 s). */
  signingKeyRefreshMs: number;
  /** Failed credentials or token guesses one client may make in a burst before RATE_LIMITED. */
  failureBurst: number;
  /** How fast that allowance comes back, per second. */
  failureRefillPerSecond: number;
  /** Extra browser origins allowed to call /graphql with the public token (CORS_ORIGINS), besides the projects' login redirect URLs. */
  corsOrigins: string[];
  /** Which peers' X-Forwarded-For to believe (TRUST_PROXY): a number of proxies in front, or their addresses/CIDRs. */
  trustProxy: TrustProxySetting;
}

/** TRUST_PROXY as Express's `trust proxy` reads it: a hop count (0: none), or addresses, CIDRs and proxy-addr's names. */
export type TrustProxySetting = { hops: number } | { addresses: string[] };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(env.PORT ?? "4000");
  const production = env.NODE_ENV === "production";
  return {
    port,
    databaseUrl: env.DATABASE_URL || "sqlite:./data/masquerade.sqlite",
    redisUrl: env.REDIS_URL || undefined,
    publicUrl: (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, ""),
    production,
    maxBodyBytes: Number(env.MAX_BODY_BYTES ?? 1_000_000),
    auditLogFile: env.AUDIT_LOG_FILE || undefined,
    webhookAllowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === "true" || !production,
    webhookTimeoutMs: parseIntSetting(env, "WEBHOOK_TIMEOUT_MS", 10_000, 1, 120_000),
    webhookMaxAttempts: parseIntSetting(env, "WEBHOOK_MAX_ATTEMPTS", 8, 1, 50),
    webhookRetryBaseMs: parseIntSetting(env, "WEBHOOK_RETRY_BASE_MS", 60_000, 1, 86_400_000),
    webhookRetryMaxDelayMs: parseIntSetting(env, "WEBHOOK_RETRY_MAX_DELAY_MS", 6 * 3_600_000, 1, 7 * 86_400_000),
    wsPingIntervalMs: parseIntSetting(env, "WS_PING_INTERVAL_MS", 30_000, 100, 3_600_000),
    webhookPollIntervalMs: parseIntSetting(env, "WEBHOOK_POLL_INTERVAL_MS", 1000, 10, 3_600_000),
    webhookSecretOverlapSeconds: parseIntSetting(env, "WEBHOOK_SECRET_OVERLAP_SECONDS", 86_400, 0, 30 * 86_400),
    webhookWorkerEnabled: env.WEBHOOK_WORKER !== "false",
    logLevel: env.LOG_LEVEL === "silent" ? "silent" : "info",
    // At most 60 s: a rotated-in key signs 70 s after the rotation, and every instance must publish it by then.
    signingKeyRefreshMs: parseIntSetting(env, "SIGNING_KEY_REFRESH_MS", 60_000, 100, 60_000),
    failureBurst: parseIntSetting(env, "RATE_LIMIT_FAILURE_BURST", 100, 1, 1_000_000),
    failureRefillPerSecond: parseIntSetting(env, "RATE_LIMIT_FAILURE_REFILL_PER_SECOND", 1, 1, 1_000_000),
    corsOrigins: parseCorsOrigins(env.CORS_ORIGINS),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
  };
}

function parseIntSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got "${value}"`);
  }
  return port;
}

function parseCorsOrigins(raw: string | undefined): string[] {
  const entries = (raw ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  for (const entry of entries) {
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      if (url.protocol === "http:" || url.protocol === "https:") origin = url.origin;
    } catch {
      // not a URL: reported below
    }
    // The exact form a browser sends in Origin: scheme, host and port, no path, nothing else.
    if (origin !== entry) {
      throw new Error(`CORS_ORIGINS must be a comma-separated list of origins such as https://app.example.com (http or https, no path, no trailing slash), got "${entry}"`);
    }
  }
  return [...new Set(entries)];
}

function parseTrustProxy(raw: string | undefined): TrustProxySetting {
  const value = (raw ?? "").trim();
  if (value === "" || value === "false") return { hops: 0 };
  if (/^[0-9]+$/.test(value)) {
    const hops = Number(value);
    if (hops > 100) throw new Error(`TRUST_PROXY as a number of proxies must be between 0 and 100, got "${value}"`);
    return { hops };
  }
  if (value === "true") {
    throw new Error(`TRUST_PROXY=true would believe any client's X-Forwarded-For; give the number of proxies in front of the server (e.g. 1) or their addresses`);
  }
  const addresses = value.split(",").map((entry) => entry.trim());
  try {
    proxyaddr.compile(addresses);
  } catch {
    throw new Error(`TRUST_PROXY must be "loopback", "linklocal", "uniquelocal", a comma-separated list of IP addresses or CIDR ranges, or a number of proxies, got "${value}"`);
  }
  return { addresses };
}
