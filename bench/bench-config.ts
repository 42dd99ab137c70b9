/** The benchmark's knobs; the only reader of process.env under bench/ (besides passing env to children). */
export interface BenchConfig {
  /** Seconds per measured run. */
  duration: number;
  /** Seconds of warm-up before a scenario's measured runs (not recorded). */
  warmup: number;
  /** Measured runs per scenario. */
  runs: number;
  /** Concurrent connections for every throughput scenario (floors included). */
  connections: number;
  /** Connections for the auditEvents latency scenario (its target is a p99 latency). */
  auditConnections: number;
  /** Events in the audit log the auditEvents scenario reads. */
  auditEvents: number;
  /** How the audit log is seeded: "bulk" (multi-row INSERTs, chain by the service's chainHash) or "append" (AuditLog.append per event). */
  seedMode: "bulk" | "append";
  /** graphql-ws subscribers for the fan-out and memory scenarios. */
  subscribers: number;
  /** Mutations measured in the fan-out scenario. */
  fanoutMutations: number;
  /** Time budget of the fan-out measurement, in seconds (it stops early and says so). */
  fanoutBudget: number;
  /** Scenario names to run (all when empty). */
  only: Set<string>;
  /** Extra node flags for the Masquerade server only (e.g. --optimize-for-size), to try runtime settings. */
  serverNodeArgs: string[];
  /** When set, the Masquerade server runs with --cpu-prof and writes its profile here. */
  cpuProfDir: string | undefined;
  /** "sqlite" (default: a temp file) or "postgres" (a temp database on BENCH_PG_URL). */
  database: "sqlite" | "postgres";
  pgUrl: string;
  /** Passed to the server as REDIS_URL when set. */
  redisUrl: string | undefined;
  /** Keep the temporary database afterwards (its location is printed), for a look at what was seeded. */
  keepDatabase: boolean;
  /** Where results.json is written. */
  resultsPath: string | undefined;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const num = (name: string, fallback: number, min = 0): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
    return value;
  };
  const database = (env.BENCH_DATABASE ?? "sqlite").toLowerCase();
  if (database !== "sqlite" && database !== "postgres") throw new Error(`BENCH_DATABASE must be sqlite or postgres, got "${database}"`);
  return {
    duration: num("BENCH_DURATION", 8, 1),
    warmup: num("BENCH_WARMUP", 2, 0),
    runs: Math.round(num("BENCH_RUNS", 2, 1)),
    connections: Math.round(num("BENCH_CONNECTIONS", 10, 1)),
    auditConnections: Math.round(num("BENCH_AUDIT_CONNECTIONS", 1, 1)),
    auditEvents: Math.round(num("BENCH_AUDIT_EVENTS", 100_000, 0)),
    seedMode: env.BENCH_SEED_MODE === "append" ? "append" : "bulk",
    subscribers: Math.round(num("BENCH_SUBSCRIBERS", 1000, 1)),
    fanoutMutations: Math.round(num("BENCH_FANOUT_MUTATIONS", 50, 1)),
    fanoutBudget: num("BENCH_FANOUT_BUDGET", 60, 1),
    only: new Set(
      (env.BENCH_ONLY ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    serverNodeArgs: (env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean),
    cpuProfDir: env.BENCH_CPU_PROF || undefined,
    database,
    pgUrl: env.BENCH_PG_URL || "postgres://postgres@127.0.0.1:5432/postgres",
    redisUrl: env.BENCH_REDIS_URL || undefined,
    keepDatabase: env.BENCH_KEEP_DB === "1" || env.BENCH_KEEP_DB === "true",
    resultsPath: env.BENCH_RESULTS || undefined,
  };
}
