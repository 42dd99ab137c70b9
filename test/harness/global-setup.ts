import { existsSync } from "node:fs";
import { connect } from "node:net";

/**
 * Which real backends the suite can reach. vitest.config.ts probes once, before it decides which
 * projects to run, and hands the result to the global setup below through the environment so the
 * banner reports exactly what was decided.
 */
export interface BackendProbe {
  postgres: { url: string; reachable: boolean; error?: string };
  redis: { url: string; reachable: boolean; error?: string };
  /** The browser tests drive this Chromium; without it they are skipped, or fail under CI. */
  chromium: { path: string; available: boolean };
  ci: boolean;
}

export const backendsEnvKey = "MASQUERADE_TEST_BACKENDS";

export function testPostgresUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";
}

export function testRedisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
}

/** Debian's `chromium` package, unless CHROMIUM_PATH names another build. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH || "/usr/bin/chromium";
}

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? "").toLowerCase();
  return value !== "" && value !== "false" && value !== "0";
}

/** A TCP connect to the URL's host and port: enough to tell "not running" from "running". */
async function reachable(url: string, defaultPort: number, timeoutMs = 1500): Promise<{ reachable: boolean; error?: string }> {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname || "127.0.0.1";
    port = Number(parsed.port || defaultPort);
  } catch {
    return { reachable: false, error: "unparseable URL" };
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: { reachable: boolean; error?: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ reachable: false, error: `no answer from ${host}:${port} within ${timeoutMs} ms` }));
    socket.once("connect", () => done({ reachable: true }));
    socket.once("error", (error) => done({ reachable: false, error: `${host}:${port}: ${error.message}` }));
  });
}

export async function probeBackends(env: NodeJS.ProcessEnv = process.env): Promise<BackendProbe> {
  const postgresUrl = testPostgresUrl(env);
  const redisUrl = testRedisUrl(env);
  const [postgres, redis] = await Promise.all([reachable(postgresUrl, 5432), reachable(redisUrl, 6379)]);
  const chromium = { path: chromiumPath(env), available: existsSync(chromiumPath(env)) };
  return { postgres: { url: redact(postgresUrl), ...postgres }, redis: { url: redact(redisUrl), ...redis }, chromium, ci: isCi(env) };
}

/** What the run covers, in words; the same text opens and closes the run. */
export function describeCoverage(probe: BackendProbe): string[] {
  const lines: string[] = [];
  lines.push("  sqlite      project: the whole suite on SQLite — RUN");
  if (probe.postgres.reachable) {
    lines.push(`  postgresql  project: the whole suite on PostgreSQL (${probe.postgres.url}) — RUN`);
  } else {
    lines.push(`  postgresql  project: NOT RUN — PostgreSQL unreachable (${probe.postgres.error})`);
  }
  if (probe.postgres.reachable && probe.redis.reachable) {
    lines.push(`  multi-instance test: two server processes on PostgreSQL + Redis (${probe.redis.url}) — RUN`);
  } else {
    const missing = [!probe.postgres.reachable && "PostgreSQL", !probe.redis.reachable && `Redis (${probe.redis.error})`].filter(Boolean);
    lines.push(`  multi-instance test: NOT RUN — needs ${missing.join(" and ")}`);
  }
  if (probe.chromium.available) {
    lines.push(`  browser tests: real headless Chromium (${probe.chromium.path}) — RUN`);
  } else {
    const outcome = probe.ci ? "they FAIL, as CI is set" : "SKIPPED";
    lines.push(`  browser tests: NOT RUN — no Chromium at ${probe.chromium.path}; ${outcome}`);
  }
  return lines;
}

export function isPartial(probe: BackendProbe): boolean {
  return !probe.postgres.reachable || !probe.redis.reachable || !probe.chromium.available;
}

function banner(probe: BackendProbe, when: "start" | "end"): string {
  const partial = isPartial(probe);
  const rule = partial ? "!".repeat(78) : "=".repeat(78);
  const title = partial
    ? when === "start"
      ? "PARTIAL RUN: some backends are unreachable or Chromium is missing, so part of the suite will NOT run"
      : "PARTIAL RUN: the results above do NOT cover every backend"
    : "Test backends: SQLite, PostgreSQL and Redis; browser tests in Chromium";
  const hint = partial
    ? [
        "  Start PostgreSQL (TEST_POSTGRES_URL) and Redis (TEST_REDIS_URL) and install Chromium",
        "  (apt-get install chromium, or CHROMIUM_PATH) to run everything;",
        "  with CI=true a missing backend or browser fails the run instead.",
      ]
    : [];
  return ["", rule, `  ${title}`, ...describeCoverage(probe), ...hint, rule, ""].join("\n");
}

function probeFromEnv(): BackendProbe | null {
  const raw = process.env[backendsEnvKey];
  return raw ? (JSON.parse(raw) as BackendProbe) : null;
}

/** Vitest global setup: says at the start and again at the end what this run covers. */
export default function setup(): () => void {
  const probe = probeFromEnv();
  if (!probe) return () => undefined;
  process.stdout.write(banner(probe, "start"));
  return () => {
    process.stdout.write(banner(probe, "end"));
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
