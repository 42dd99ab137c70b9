import autocannon, { type AutocannonRequest, type Result } from "autocannon";

/** One scenario as autocannon drives it. */
export interface LoadSpec {
  name: string;
  label: string;
  /** Full URL (origin + path). */
  url: string;
  connections: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** A per-connection request sequence (replaces method/headers/body). */
  requests?: AutocannonRequest[];
  /** Operations per HTTP request: 0.5 when one operation is two calls (create + authenticate). */
  opsPerRequest?: number;
  /** Unit of the operation count, e.g. "req" or "impersonation". */
  unit?: string;
}

export interface RunMeasure {
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  opsPerSecond: number;
  latencyMs: { avg: number; p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  /** 2xx responses whose body held GraphQL `errors` (autocannon "mismatches"). */
  graphqlErrors: number;
  /** Server CPU time per operation (user + system, all its threads), in ms: robust to a busy machine. */
  serverCpuMsPerOp: number | null;
  /** The run's interval on the monotonic clock (µs), to cut it out of a --cpu-prof profile. */
  monotonicUs: { start: number; end: number };
  valid: boolean;
}

export interface ScenarioMeasure {
  name: string;
  label: string;
  unit: string;
  connections: number;
  runs: RunMeasure[];
  validRuns: number;
  /** Mean over valid runs; null when no run was valid. */
  opsPerSecond: number | null;
  requestsPerSecond: number | null;
  /** Mean p50 and worst p99 over valid runs (per HTTP call). */
  p50Ms: number | null;
  p99Ms: number | null;
  serverCpuMsPerOp: number | null;
}

/** What the load generator may ask of the server under test. */
export interface MeasuredServer {
  cpuSeconds(): Promise<number>;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** A 2xx response is still a failure when its GraphQL body carries errors. */
export const noGraphQLErrors = (body: string): boolean => !body.includes('"errors"');

/** autocannon's own histogram keeps whole milliseconds; we keep every response time, in ms. */
async function runOnce(spec: LoadSpec, seconds: number): Promise<{ result: Result; latencies: number[] }> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: seconds,
    timeout: 30,
    method: spec.method ?? "POST",
    headers: spec.headers,
    body: spec.body,
    requests: spec.requests,
    verifyBody: noGraphQLErrors,
    title: spec.name,
  });
  instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime);
  });
  const result = await instance;
  return { result, latencies };
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function toRunMeasure(
  { result, latencies }: { result: Result; latencies: number[] },
  opsPerRequest: number,
  extra: { cpuSeconds: number | null; monotonicUs: { start: number; end: number } },
): RunMeasure {
  const sorted = Float64Array.from(latencies).sort();
  const requests = result.requests.total;
  const durationS = result.duration;
  const requestsPerSecond = durationS > 0 ? requests / durationS : 0;
  const valid = requests > 0 && result.errors === 0 && result.timeouts === 0 && result.non2xx === 0 && result.mismatches === 0;
  return {
    durationS,
    requests,
    requestsPerSecond,
    opsPerSecond: requestsPerSecond * opsPerRequest,
    latencyMs: {
      avg: round2(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
      p50: round2(percentile(sorted, 50)),
      p90: round2(percentile(sorted, 90)),
      p99: round2(percentile(sorted, 99)),
      max: round2(sorted.length ? sorted[sorted.length - 1]! : NaN),
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
    serverCpuMsPerOp: extra.cpuSeconds === null || requests === 0 ? null : round2((extra.cpuSeconds * 1000) / (requests * opsPerRequest)),
    monotonicUs: extra.monotonicUs,
    valid,
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Warm-up (discarded), then `runs` measured runs; invalid runs are reported but not averaged in. */
export async function measureScenario(
  spec: LoadSpec,
  options: { warmup: number; duration: number; runs: number; log: (line: string) => void },
  server?: MeasuredServer,
): Promise<ScenarioMeasure> {
  const opsPerRequest = spec.opsPerRequest ?? 1;
  if (options.warmup > 0) await runOnce(spec, options.warmup);
  const runs: RunMeasure[] = [];
  for (let i = 0; i < options.runs; i++) {
    const cpuBefore = server ? await server.cpuSeconds() : null;
    const start = monotonicUs();
    const outcome = await runOnce(spec, options.duration);
    const end = monotonicUs();
    const cpuAfter = server ? await server.cpuSeconds() : null;
    const cpuSeconds = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
    const run = toRunMeasure(outcome, opsPerRequest, { cpuSeconds, monotonicUs: { start, end } });
    runs.push(run);
    options.log(
      `  ${spec.name} run ${i + 1}: ${run.opsPerSecond.toFixed(0)} ${spec.unit ?? "req"}/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms` +
        (run.serverCpuMsPerOp === null ? "" : `, server CPU ${run.serverCpuMsPerOp} ms/${spec.unit ?? "req"}`) +
        (run.valid ? "" : `  INVALID (errors ${run.errors}, timeouts ${run.timeouts}, non-2xx ${run.non2xx}, GraphQL errors ${run.graphqlErrors})`),
    );
  }
  const valid = runs.filter((run) => run.valid);
  return {
    name: spec.name,
    label: spec.label,
    unit: spec.unit ?? "req",
    connections: spec.connections,
    runs,
    validRuns: valid.length,
    opsPerSecond: valid.length ? mean(valid.map((r) => r.opsPerSecond)) : null,
    requestsPerSecond: valid.length ? mean(valid.map((r) => r.requestsPerSecond)) : null,
    p50Ms: valid.length ? mean(valid.map((r) => r.latencyMs.p50)) : null,
    p99Ms: valid.length ? Math.max(...valid.map((r) => r.latencyMs.p99)) : null,
    serverCpuMsPerOp: valid.length && valid.every((r) => r.serverCpuMsPerOp !== null) ? round2(mean(valid.map((r) => r.serverCpuMsPerOp!))) : null,
  };
}
