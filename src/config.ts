import proxyaddr from "proxy-addr";
import { parseDatabaseUrl } from "./db/database-url.js";
import { SettingError } from "./errors/setting-error.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
const logLevels: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** The only reader of process.env: everything else receives a Config. */
export interface Config {
  /** 0: any free port (App.port says which). */
  port: number;
  /** METRICS_PORT: a second listener for /metrics, /healthz and /readyz; undefined: none. */
  metricsPort: number | undefined;
  databaseUrl: string;
  redisUrl: string | undefined;
  /** PUBLIC_URL without trailing slashes; unset: http://localhost:<the port listened on> (App.publicUrl). */
  publicUrl: string | undefined;
  production: boolean;
  /** Max HTTP body size in bytes; larger requests get 413. */
  maxBodyBytes: number;
  /** Path of an NDJSON audit stream: "-" or "stdout" for stdout, unset for none. */
  auditLogFile: string | undefined;
  /** Allow webhook URLs on loopback/private addresses (default: outside production only). */
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
  logLevel: LogLevel;
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

/**
 * Reads and validates every setting. A variable set to the empty string counts as unset (its
 * default applies). A bad value throws a SettingError naming the variable and the rule; the message
 * never repeats the value, which could be a secret pasted into the wrong variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const settings = new Settings(env);
  const port = settings.integer("PORT", 4000, 0, 65535);
  const production = settings.oneOf("NODE_ENV", ["production", "development", "test"], "development") === "production";
  const databaseUrl = settings.text("DATABASE_URL") ?? "sqlite:./data/masquerade.sqlite";
  parseDatabaseUrl(databaseUrl); // throws a SettingError naming DATABASE_URL
  return {
    port,
    metricsPort: parseMetricsPort(settings, port),
    databaseUrl,
    redisUrl: settings.url("REDIS_URL", ["redis:", "rediss:"]),
    publicUrl: settings.publicUrl("PUBLIC_URL"),
    production,
    maxBodyBytes: settings.integer("MAX_BODY_BYTES", 1_000_000, 1024, 100 * 1024 * 1024),
    auditLogFile: settings.text("AUDIT_LOG_FILE"),
    webhookAllowPrivateUrls: settings.boolean("WEBHOOK_ALLOW_PRIVATE_URLS", !production),
    webhookTimeoutMs: settings.integer("WEBHOOK_TIMEOUT_MS", 10_000, 1, 120_000),
    webhookMaxAttempts: settings.integer("WEBHOOK_MAX_ATTEMPTS", 8, 1, 50),
    webhookRetryBaseMs: settings.integer("WEBHOOK_RETRY_BASE_MS", 60_000, 1, 86_400_000),
    webhookRetryMaxDelayMs: settings.integer("WEBHOOK_RETRY_MAX_DELAY_MS", 6 * 3_600_000, 1, 7 * 86_400_000),
    wsPingIntervalMs: settings.integer("WS_PING_INTERVAL_MS", 30_000, 100, 3_600_000),
    webhookPollIntervalMs: settings.integer("WEBHOOK_POLL_INTERVAL_MS", 1000, 10, 3_600_000),
    webhookSecretOverlapSeconds: settings.integer("WEBHOOK_SECRET_OVERLAP_SECONDS", 86_400, 0, 30 * 86_400),
    webhookWorkerEnabled: settings.boolean("WEBHOOK_WORKER", true),
    logLevel: settings.oneOf("LOG_LEVEL", logLevels, "info"),
    // At most 60 s: a rotated-in key signs 70 s after the rotation, and every instance must publish it by then.
    signingKeyRefreshMs: settings.integer("SIGNING_KEY_REFRESH_MS", 60_000, 100, 60_000),
    failureBurst: settings.integer("RATE_LIMIT_FAILURE_BURST", 100, 1, 1_000_000),
    failureRefillPerSecond: settings.integer("RATE_LIMIT_FAILURE_REFILL_PER_SECOND", 1, 1, 1_000_000),
    corsOrigins: parseCorsOrigins(settings.text("CORS_ORIGINS")),
    trustProxy: parseTrustProxy(settings.text("TRUST_PROXY")),
  };
}

/**
 * One parser per kind of setting. Hand-written rather than a library's (envalid, zod): every rule
 * here is stricter than their stock validators (plain digits only, `true`/`false` only, empty as
 * unset, messages that never echo the value), so a library would only wrap these same lines.
 */
class Settings {
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The raw value; undefined when unset or empty. */
  text(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === "" ? undefined : value;
  }

  /** Plain decimal digits only: no sign, unit ("1mb"), exponent, fraction or spaces. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      throw new SettingError(name, `must be a whole number from ${min} to ${max} in plain digits, without a unit (such as "mb") or sign`);
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    if (raw === "true" || raw === "false") return raw === "true";
    throw new SettingError(name, 'must be "true" or "false"');
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new SettingError(name, `must be one of ${values.join(", ")}`);
  }

  /** An absolute URL with one of `protocols` (e.g. "redis:"). */
  url(name: string, protocols: readonly string[]): string | undefined {
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    const expected = protocols.map((protocol) => `${protocol}//`).join(" or ");
    // The message does not repeat the URL: it may hold a password.
    const hasProtocol = protocols.some((protocol) => raw.toLowerCase().startsWith(`${protocol}//`));
    if (!hasProtocol || !URL.canParse(raw)) throw new SettingError(name, `must be a ${expected} URL`);
    return raw;
  }

  /** The server's external base URL: absolute http(s), no credentials, query or fragment. */
  publicUrl(name: string): string | undefined {
    const raw = this.url(name, ["http:", "https:"]);
    if (raw === undefined) return undefined;
    const url = new URL(raw);
    if (url.username || url.password || raw.includes("?") || raw.includes("#")) {
      throw new SettingError(name, "must be a plain http:// or https:// base URL, without credentials, query or fragment");
    }
    return raw.replace(/\/+$/, "");
  }
}

function parseMetricsPort(settings: Settings, port: number): number | undefined {
  if (settings.text("METRICS_PORT") === undefined) return undefined;
  const metricsPort = settings.integer("METRICS_PORT", 0, 1, 65535);
  if (metricsPort === port) throw new SettingError("METRICS_PORT", "must differ from PORT: metrics are served on a listener of their own");
  return metricsPort;
}

/**
 * Each entry as the exact form a browser sends in Origin: scheme, host and port. An entry written
 * with a lone trailing slash (`https://app.example.com/`, as copied from an address bar) means that
 * origin; a real path, a query, a fragment or credentials are refused, as is any other spelling
 * (upper case, a default port), which would silently never match. Messages name the entry by its
 * position, never its text: a value in the wrong variable may be a secret.
 */
function parseCorsOrigins(raw: string | undefined): string[] {
  const entries = (raw ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  const origins = entries.map((entry, index) => {
    const refuse = (what: string) =>
      new SettingError("CORS_ORIGINS", `must be a comma-separated list of origins such as https://app.example.com (http or https, lower case, no path, query or credentials); entry ${index + 1} ${what}`);
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw refuse("is not a URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw refuse("is not http or https");
    if (url.username !== "" || url.password !== "") throw refuse("has credentials");
    if (url.pathname !== "/") throw refuse("has a path");
    if (url.search !== "" || url.hash !== "" || /[?#]/.test(entry)) throw refuse("has a query or fragment");
    if (entry !== url.origin && entry !== `${url.origin}/`) throw refuse("is not written as a browser sends it (lower case, no default port)");
    return url.origin;
  });
  return [...new Set(origins)];
}

function parseTrustProxy(raw: string | undefined): TrustProxySetting {
  const value = (raw ?? "").trim();
  if (value === "" || value === "false") return { hops: 0 };
  if (/^[0-9]+$/.test(value)) {
    const hops = Number(value);
    if (hops > 100) throw new SettingError("TRUST_PROXY", "as a number of proxies must be from 0 to 100");
    return { hops };
  }
  if (value === "true") {
    throw new SettingError("TRUST_PROXY", "must not be true, which would believe any client's X-Forwarded-For: give the number of proxies in front of the server (e.g. 1) or their addresses");
  }
  const addresses = value.split(",").map((entry) => entry.trim());
  try {
    proxyaddr.compile(addresses);
  } catch {
    throw new SettingError("TRUST_PROXY", 'must be "loopback", "linklocal", "uniquelocal", a comma-separated list of IP addresses or CIDR ranges, or a number of proxies');
  }
  return { addresses };
}
