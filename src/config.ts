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
  logLevel: "silent" | "info";
  /** Failed credentials or token guesses one client may make in a burst before RATE_LIMITED. */
  failureBurst: number;
  /** How fast that allowance comes back, per second. */
  failureRefillPerSecond: number;
}

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
    logLevel: env.LOG_LEVEL === "silent" ? "silent" : "info",
    failureBurst: Number(env.RATE_LIMIT_FAILURE_BURST ?? 100),
    failureRefillPerSecond: Number(env.RATE_LIMIT_FAILURE_REFILL_PER_SECOND ?? 1),
  };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got "${value}"`);
  }
  return port;
}
