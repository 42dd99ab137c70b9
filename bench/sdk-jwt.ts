import { MasqueradeClient } from "@masquerade/client";
import type { RunMeasure, ScenarioMeasure } from "./load.js";

export interface SdkJwtSpec {
  name: string;
  label: string;
  graphqlUrl: string;
  /** The server's PUBLIC_URL: the JWTs' issuer. */
  issuer: string;
  projectId: string;
  projectSecret: string;
  /** Live sessions; their JWTs are refreshed (through the SDK) just before the measurement. */
  sessionTokens: string[];
  /** Concurrent verification loops (the same number as the HTTP scenarios' connections). */
  concurrency: number;
  /** false: the client remembers no verified JWT, so every check verifies an ECDSA signature. */
  rememberVerifiedJwts: boolean;
}

interface RunSettings {
  warmup: number;
  duration: number;
  runs: number;
  log: (line: string) => void;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * `sessions.authenticateJwt` of @masquerade/client in this process: how many session JWTs one Node
 * process verifies per second, with no request to the server (the JWKS is fetched once, before the
 * runs). Each check's result is compared with the session it belongs to; a wrong or failed one
 * makes the run invalid.
 */
export async function measureSdkJwt(spec: SdkJwtSpec, settings: RunSettings): Promise<ScenarioMeasure> {
  const client = new MasqueradeClient({
    url: spec.graphqlUrl,
    issuer: spec.issuer,
    projectId: spec.projectId,
    projectSecret: spec.projectSecret,
    rememberVerifiedJwts: spec.rememberVerifiedJwts ? undefined : 0,
  });
  // Once more on a failure: a keep-alive socket the server closed while the previous scenario kept
  // this process's event loop busy makes the first request fail ("other side closed").
  const refresh = (sessionToken: string) => client.sessions.authenticate({ sessionToken }).catch(() => client.sessions.authenticate({ sessionToken }));
  const sessions = await Promise.all(
    spec.sessionTokens.map(async (sessionToken) => {
      const { sessionJwt, session } = await refresh(sessionToken);
      return { sessionJwt, sessionId: session.sessionId };
    }),
  );
  // One check first: the JWKS fetch is not part of the figure, and a broken setup is reported as such.
  await client.sessions.authenticateJwt(sessions[0]!.sessionJwt);

  const runOnce = async (seconds: number): Promise<RunMeasure> => {
    const latencies: number[] = [];
    let errors = 0;
    let next = 0;
    const startUs = Number(process.hrtime.bigint() / 1000n);
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const loop = async () => {
      while (performance.now() < deadline) {
        const { sessionJwt, sessionId } = sessions[next++ % sessions.length]!;
        const before = performance.now();
        try {
          const verified = await client.sessions.authenticateJwt(sessionJwt);
          if (verified.sessionId !== sessionId) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - before);
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, loop));
    const durationS = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const operations = latencies.length;
    return {
      durationS,
      requests: operations,
      requestsPerSecond: operations / durationS,
      opsPerSecond: operations / durationS,
      latencyMs: {
        avg: latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, operations),
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies[operations - 1] ?? 0,
      },
      errors,
      timeouts: 0,
      non2xx: 0,
      graphqlErrors: 0,
      serverCpuMsPerOp: null,
      monotonicUs: { start: startUs, end: Number(process.hrtime.bigint() / 1000n) },
      valid: errors === 0 && operations > 0,
    };
  };

  if (settings.warmup > 0) await runOnce(settings.warmup);
  const runs: RunMeasure[] = [];
  for (let i = 0; i < settings.runs; i++) {
    const measured = await runOnce(settings.duration);
    settings.log(`  run ${i + 1}: ${measured.opsPerSecond.toFixed(0)} verifications/s, p99 ${measured.latencyMs.p99.toFixed(3)} ms${measured.valid ? "" : ` — INVALID (${measured.errors} failed)`}`);
    runs.push(measured);
  }
  const valid = runs.filter((r) => r.valid);
  const mean = (pick: (r: RunMeasure) => number) => (valid.length ? valid.reduce((sum, r) => sum + pick(r), 0) / valid.length : null);
  return {
    name: spec.name,
    label: spec.label,
    unit: "jwt",
    connections: spec.concurrency,
    runs,
    validRuns: valid.length,
    opsPerSecond: mean((r) => r.opsPerSecond),
    requestsPerSecond: mean((r) => r.requestsPerSecond),
    p50Ms: mean((r) => r.latencyMs.p50),
    p99Ms: valid.length ? Math.max(...valid.map((r) => r.latencyMs.p99)) : null,
    serverCpuMsPerOp: null,
  };
}
