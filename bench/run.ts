/**
 * `npm run bench`: starts the real server (a child process, NODE_ENV=production, its own temporary
 * database), seeds it through the API, drives it over loopback with autocannon and compares every
 * figure with two floors measured in the same run (a bare node:http handler and a trivial Apollo
 * Server 5). Prints Markdown tables and writes bench/results.json. Settings: see bench-config.ts.
 */
import type { AutocannonRequest } from "autocannon";
import { readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { loadBenchConfig } from "./bench-config.js";
import { createTempDatabase, type TempDatabase } from "./database.js";
import { measureFanout, Subscribers, tokenMutationDriver, waitUntilAllSubscribed, type FanoutMeasure } from "./fanout.js";
import { basic, bearer, gql, graphqlBody, jsonHeaders, mapLimit, type Credential } from "./gql.js";
import { measureScenario, type LoadSpec, type ScenarioMeasure } from "./load.js";
import { runNodeScript, startChildServer, type ChildServer } from "./processes.js";
import { measureSdkJwt } from "./sdk-jwt.js";
import { renderMachine, renderTables, type BenchResults, type MachineInfo, type MemoryMeasure, type TargetCheck } from "./report.js";

const benchDir = dirname(fileURLToPath(import.meta.url)); // dist/bench
const distDir = resolve(benchDir, "..");
const repoDir = resolve(distDir, "..");
const config = loadBenchConfig();
const log = (line: string) => console.log(line);
const began = performance.now();

const wanted = (name: string) => config.only.size === 0 || config.only.has(name);

function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    node: process.version,
    cpuModel,
    memoryGb: totalmem() / 1024 ** 3,
    loadAverageAtStart: loadavg(),
    platform: `${process.platform}-${process.arch}`,
  };
}

const run = { warmup: config.warmup, duration: config.duration, runs: config.runs, log };

// --- GraphQL operations the scenarios send --------------------------------------------------

const createTokenQuery = `mutation BenchCreateToken($input: CreateImpersonationTokenInput!) {
  createImpersonationToken(input: $input) { token expiresAt launchUrl }
}`;
const authenticateTokenQuery = `mutation BenchAuthenticateToken($token: String!) {
  authenticateImpersonationToken(token: $token) {
    requestId userId user { id email }
    sessionToken sessionJwt
    session { id startedAt expiresAt authenticationFactors { type impersonatedFactor { impersonatorId impersonatorEmailAddress } } }
  }
}`;
const authenticateSessionByTokenQuery = `mutation BenchAuthenticateSession($sessionToken: String) {
  authenticateSession(sessionToken: $sessionToken) { sessionJwt session { id lastAccessedAt expiresAt } user { id email } }
}`;
const authenticateSessionByJwtQuery = `mutation BenchAuthenticateSessionJwt($sessionJwt: String) {
  authenticateSession(sessionJwt: $sessionJwt) { sessionJwt session { id lastAccessedAt expiresAt } user { id email } }
}`;
const auditEventsQuery = `query BenchAuditEvents($projectId: ID!) {
  auditEvents(projectId: $projectId, first: 100) {
    edges {
      cursor
      node {
        id action eventType status errorCode requestId reason sessionId createdAt
        userId user { id email name }
        impersonatorId impersonatorEmail impersonator { id email role }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface World {
  graphqlUrl: string;
  wsUrl: string;
  projectId: string;
  adminMemberId: string;
  projectSecret: string;
  /** The server's PUBLIC_URL (its default: localhost and its port), the session JWTs' issuer. */
  issuer: string;
  admin: Credential;
  backend: Credential;
  userIds: string[];
}

/** Round-robin over prepared bodies, one per request (cheap: no JSON work in the load generator). */
function rotating(bodies: string[]): (req: AutocannonRequest) => AutocannonRequest {
  let next = 0;
  return (req) => ({ ...req, body: bodies[next++ % bodies.length] });
}

async function bootstrapAndStart(database: TempDatabase): Promise<{ server: ChildServer; world: World }> {
  const env = { DATABASE_URL: database.url, NODE_ENV: "production", LOG_LEVEL: "silent", ...(config.redisUrl ? { REDIS_URL: config.redisUrl } : {}) };
  const out = await runNodeScript(join(distDir, "scripts", "bootstrap.js"), ["--admin-email", "bench-admin@example.com", "--project", "Bench", "--json"], env);
  const boot = JSON.parse(out.trim().split("\n").pop()!) as { adminMemberId: string; adminApiKey: string; projectId: string; projectSecret: string };
  const nodeArgs = [...config.serverNodeArgs, ...(config.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(config.cpuProfDir)}`] : [])];
  if (config.cpuProfDir) await mkdir(resolve(config.cpuProfDir), { recursive: true });
  const server = await startChildServer({ name: "masquerade", script: join(distDir, "src", "main.js"), env, nodeArgs });
  const world: World = {
    graphqlUrl: `${server.origin}/graphql`,
    wsUrl: `ws://127.0.0.1:${server.port}/graphql`,
    projectId: boot.projectId,
    adminMemberId: boot.adminMemberId,
    projectSecret: boot.projectSecret,
    issuer: `http://localhost:${server.port}`,
    admin: bearer(boot.adminApiKey),
    backend: basic(boot.projectId, boot.projectSecret),
    userIds: [],
  };
  await gql(world.graphqlUrl, world.admin, `mutation($p: ID!) { setImpersonationPolicy(projectId: $p, input: { allowImpersonation: true, tokenTtlSeconds: 3600 }) { allowImpersonation } }`, {
    p: world.projectId,
  });
  world.userIds = await mapLimit(
    Array.from({ length: 100 }, (_, i) => i),
    8,
    async (i) =>
      (
        await gql<{ createUser: { id: string } }>(world.graphqlUrl, world.admin, `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
          input: { projectId: world.projectId, email: `user${i}@bench.example.com`, name: `Bench User ${i}` },
        })
      ).createUser.id,
  );
  return { server, world };
}

async function startSessions(world: World, count: number): Promise<Array<{ sessionToken: string; sessionJwt: string }>> {
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (i) => {
      const { createImpersonationToken } = await gql<{ createImpersonationToken: { token: string } }>(world.graphqlUrl, world.admin, createTokenQuery, {
        input: { projectId: world.projectId, userId: world.userIds[i % world.userIds.length], reason: "benchmark session" },
      });
      const { authenticateImpersonationToken } = await gql<{ authenticateImpersonationToken: { sessionToken: string; sessionJwt: string } }>(
        world.graphqlUrl,
        world.backend,
        authenticateTokenQuery,
        { token: createImpersonationToken.token },
      );
      return authenticateImpersonationToken;
    },
  );
}

function impersonationSpec(world: World): LoadSpec {
  const createBodies = world.userIds.map((userId) => graphqlBody(createTokenQuery, { input: { projectId: world.projectId, userId, reason: "benchmark: impersonation throughput" } }));
  return {
    name: "impersonation",
    label: "impersonation (createImpersonationToken + authenticateImpersonationToken)",
    url: world.graphqlUrl,
    connections: config.connections,
    opsPerRequest: 0.5,
    unit: "imp",
    requests: [
      {
        method: "POST",
        path: "/graphql",
        headers: { ...jsonHeaders, ...world.admin.headers },
        setupRequest: rotating(createBodies),
        onResponse: (status, body, context) => {
          if (status !== 200) return;
          const match = /"token":"([^"]+)"/.exec(body);
          if (match) context.token = match[1];
        },
      },
      {
        method: "POST",
        path: "/graphql",
        headers: { ...jsonHeaders, ...world.backend.headers },
        setupRequest: (req, context) => (typeof context.token === "string" ? { ...req, body: graphqlBody(authenticateTokenQuery, { token: context.token }) } : null),
      },
    ],
  };
}

function sessionSpec(world: World, by: "token" | "jwt", sessions: Array<{ sessionToken: string; sessionJwt: string }>): LoadSpec {
  const bodies = sessions.map((s) =>
    by === "token" ? graphqlBody(authenticateSessionByTokenQuery, { sessionToken: s.sessionToken }) : graphqlBody(authenticateSessionByJwtQuery, { sessionJwt: s.sessionJwt }),
  );
  return {
    name: `session-${by}`,
    label: `authenticateSession by ${by === "token" ? "sessionToken" : "sessionJwt"}`,
    url: world.graphqlUrl,
    connections: config.connections,
    unit: "req",
    requests: [{ method: "POST", path: "/graphql", headers: { ...jsonHeaders, ...world.backend.headers }, setupRequest: rotating(bodies) }],
  };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  log(`Masquerade benchmarks on ${renderMachine(machine)}`);
  log(
    `duration ${config.duration}s × ${config.runs} runs after ${config.warmup}s warm-up, ${config.connections} connections; database ${config.database}` +
      (config.serverNodeArgs.length ? `; server node flags: ${config.serverNodeArgs.join(" ")}` : "") +
      (config.cpuProfDir ? `; CPU profile → ${config.cpuProfDir}` : ""),
  );
  if (machine.loadAverageAtStart[0]! > machine.nproc * 0.5) log(`warning: the machine is busy (load ${machine.loadAverageAtStart[0]!.toFixed(2)}); figures will be noisy.`);

  const floors: ScenarioMeasure[] = [];
  const scenarios: ScenarioMeasure[] = [];
  const skipped: Record<string, string> = {};
  const memory: MemoryMeasure = {
    idleMb: null,
    afterLoadMb: null,
    withSubscribersMb: null,
    withSubscribersAfterFanoutMb: null,
    subscribers: config.subscribers,
  };
  let fanout: FanoutMeasure | null = null;
  const floorBody = graphqlBody("{ hello }");

  // --- floors ---------------------------------------------------------------------------------
  for (const floor of [
    { name: "floor-http", label: "floor: bare node:http JSON", script: "floor-http.js", path: "/", readyPath: "/" },
    { name: "floor-apollo", label: "floor: Apollo Server 5 { hello }", script: "floor-apollo.js", path: "/graphql", readyPath: "/healthz" },
  ]) {
    if (!wanted(floor.name)) continue;
    log(`\n${floor.label}`);
    const child = await startChildServer({ name: floor.name, script: join(benchDir, floor.script), readyPath: floor.readyPath, env: { NODE_ENV: "production" } });
    try {
      floors.push(
        await measureScenario(
          { name: floor.name, label: floor.label, url: child.origin + floor.path, connections: config.connections, method: "POST", headers: { ...jsonHeaders }, body: floorBody },
          run,
          child,
        ),
      );
    } finally {
      await child.stop();
    }
  }

  // --- Masquerade -----------------------------------------------------------------------------
  const masqueradeScenarios = ["credential-floor", "impersonation", "session-token", "session-jwt", "sdk-jwt", "sdk-jwt-verify", "audit-events", "fanout", "memory"];
  if (masqueradeScenarios.some(wanted)) {
    const database = await createTempDatabase(config.database, config.pgUrl);
    let server: ChildServer | null = null;
    try {
      log(`\nstarting Masquerade on ${database.describe}`);
      const started = await bootstrapAndStart(database);
      server = started.server;
      const world = started.world;
      await sleep(500);
      memory.idleMb = await server.rssMb();
      log(`  RSS idle: ${memory.idleMb.toFixed(1)} MiB`);

      const attempt = async (name: string, fn: () => Promise<void>, enabled = wanted(name)) => {
        if (!enabled) return;
        try {
          await fn();
        } catch (error) {
          skipped[name] = error instanceof Error ? error.message : String(error);
          log(`  ${name} FAILED: ${skipped[name]}`);
        }
      };

      // Masquerade's own floor: the least an authenticated request costs here (credential lookup,
      // request context, the whole HTTP + Apollo path), against which the hot paths can be read.
      await attempt("credential-floor", async () => {
        log(`\nreference: { __typename } with a backend credential`);
        scenarios.push(
          await measureScenario(
            {
              name: "credential-floor",
              label: "reference: Masquerade { __typename }, backend credential",
              url: world.graphqlUrl,
              connections: config.connections,
              method: "POST",
              headers: { ...jsonHeaders, ...world.backend.headers },
              body: graphqlBody("{ __typename }"),
            },
            run,
            server!,
          ),
        );
      });

      await attempt("impersonation", async () => {
        log(`\nimpersonation`);
        scenarios.push(await measureScenario(impersonationSpec(world), run, server!));
      });

      let sessions: Array<{ sessionToken: string; sessionJwt: string }> | null = null;
      const liveSessions = async () => (sessions ??= await startSessions(world, Math.max(20, config.connections * 2)));
      if (wanted("session-token") || wanted("session-jwt")) {
        await attempt("session-token", async () => {
          log(`\nauthenticateSession by sessionToken`);
          scenarios.push(await measureScenario(sessionSpec(world, "token", await liveSessions()), run, server!));
        });
        await attempt("session-jwt", async () => {
          log(`\nauthenticateSession by sessionJwt`);
          scenarios.push(await measureScenario(sessionSpec(world, "jwt", await liveSessions()), run, server!));
        });
      }

      // The client SDK's local check (packages/client), in this process: not bound by the server.
      for (const remember of [true, false]) {
        const name = remember ? "sdk-jwt" : "sdk-jwt-verify";
        await attempt(name, async () => {
          const label = remember
            ? "@masquerade/client authenticateJwt (in process; each JWT's signature verified once)"
            : "@masquerade/client authenticateJwt (in process; signature verified every time)";
          log(`\n${label}`);
          const tokens = (await liveSessions()).map((session) => session.sessionToken);
          scenarios.push(
            await measureSdkJwt(
              {
                name,
                label,
                graphqlUrl: world.graphqlUrl,
                issuer: world.issuer,
                projectId: world.projectId,
                projectSecret: world.projectSecret,
                sessionTokens: tokens,
                concurrency: config.connections,
                rememberVerifiedJwts: remember,
              },
              run,
            ),
          );
        });
      }

      await attempt("audit-events", async () => {
        log(`\nauditEvents(first: 100): seeding the log to ${config.auditEvents} events`);
        const seeded = await runNodeScript(
          join(benchDir, "seed-audit.js"),
          ["--project", world.projectId, "--member", world.adminMemberId, "--users", world.userIds.join(","), "--total", String(config.auditEvents), "--mode", config.seedMode],
          { DATABASE_URL: database.url },
        );
        log(`  seeded: ${seeded.trim().split("\n").pop()}`);
        // One request first, so that a missing or broken query is reported as such, not as a figure.
        await gql(world.graphqlUrl, world.backend, auditEventsQuery, { projectId: world.projectId });
        scenarios.push(
          await measureScenario(
            {
              name: "audit-events",
              label: `auditEvents(first: 100) + user, impersonator (${config.auditEvents} events)`,
              url: world.graphqlUrl,
              connections: config.auditConnections,
              method: "POST",
              headers: { ...jsonHeaders, ...world.backend.headers },
              body: graphqlBody(auditEventsQuery, { projectId: world.projectId }),
            },
            run,
            server!,
          ),
        );
      });

      await sleep(500);
      memory.afterLoadMb = await server.rssMb();

      // One set of subscribers serves both the memory figure and the fan-out.
      await attempt(
        wanted("fanout") ? "fanout" : "memory",
        async () => {
          log(`\nfan-out: connecting ${config.subscribers} graphql-ws subscribers`);
          const subscribers = await Subscribers.connect(world.wsUrl, world.backend, world.projectId, config.subscribers);
          try {
            const driver = tokenMutationDriver(world.graphqlUrl, world.admin, world.projectId, world.userIds[0]!);
            // Every socket is connected and its subscribe message sent; give the server a moment to
            // register them, measure, then prove with a probe event that every one is subscribed.
            await sleep(2000);
            const idleRss = await server!.rssMb();
            await waitUntilAllSubscribed(subscribers, driver);
            memory.withSubscribersMb = idleRss;
            log(`  RSS with ${config.subscribers} idle subscribers: ${idleRss.toFixed(1)} MiB`);
            if (wanted("fanout")) {
              for (let i = 0; i < 3; i++) await driver.mutate(`fanout warm-up ${i}`);
              fanout = await measureFanout(subscribers, driver, config.fanoutMutations, config.fanoutBudget * 1000);
              memory.withSubscribersAfterFanoutMb = await server!.rssMb();
              log(
                `  ${fanout.complete}/${fanout.mutations} mutations reached all${fanout.truncated ? ` (stopped after ${config.fanoutBudget} s)` : ""}; response → last subscriber p50 ${fanout.fromResponseMs.p50} ms, p99 ${fanout.fromResponseMs.p99} ms; ` +
                  `RSS now ${memory.withSubscribersAfterFanoutMb.toFixed(1)} MiB`,
              );
            }
          } finally {
            await subscribers.dispose();
          }
        },
        wanted("fanout") || wanted("memory"),
      );
    } finally {
      await server?.stop();
      if (config.keepDatabase) log(`kept the database: ${database.url}`);
      else await database.drop();
    }
  }

  // --- report ---------------------------------------------------------------------------------
  const apollo = floors.find((f) => f.name === "floor-apollo")?.requestsPerSecond ?? null;
  const byName = (name: string) => scenarios.find((s) => s.name === name) ?? null;
  const ratioTarget = (name: string, description: string, floorRatio: number): TargetCheck => {
    const s = byName(name);
    const value = s?.opsPerSecond != null && apollo ? s.opsPerSecond / apollo : null;
    return { name, description, value, unit: "×", target: `≥ ${floorRatio} × Apollo floor`, met: value === null ? null : value >= floorRatio };
  };
  const rssTarget = (name: string, description: string, mib: number | null): TargetCheck => {
    const value = mib === null ? null : mib * 1.048576;
    return { name, description, value, unit: "MB", target: "< 300 MB", met: value === null ? null : value < 300 };
  };
  /** The SDK's local check against the server's own authenticateSession, measured in the same run. */
  const againstSessionToken = (name: string, description: string, times: number): TargetCheck => {
    const local = byName(name)?.opsPerSecond;
    const server = byName("session-token")?.opsPerSecond;
    const value = local != null && server != null ? local / server : null;
    return { name, description, value, unit: "×", target: `≥ ${times} × authenticateSession`, met: value === null ? null : value >= times };
  };
  const audit = byName("audit-events");
  const fanoutResult = fanout as FanoutMeasure | null;
  const targets: TargetCheck[] = [
    ratioTarget("impersonation", "impersonations/s", 0.11),
    ratioTarget("session-token", "authenticateSession by token, req/s", 0.5),
    ratioTarget("session-jwt", "authenticateSession by JWT, req/s", 0.5),
    againstSessionToken("sdk-jwt", "SDK authenticateJwt, verifications/s", 20),
    {
      name: "audit-events",
      description: `auditEvents(first: 100) p99 (${config.auditConnections} conn)`,
      value: audit?.p99Ms ?? null,
      unit: "ms",
      target: "< 25 ms",
      met: audit?.p99Ms == null ? null : audit.p99Ms < 25,
    },
    {
      name: "fanout",
      description: `fan-out p99, ${config.subscribers} subscribers`,
      value: fanoutResult?.valid ? fanoutResult.fromResponseMs.p99 : null,
      unit: "ms",
      target: "< 100 ms",
      met: fanoutResult ? fanoutResult.valid && fanoutResult.fromResponseMs.p99 < 100 : null,
    },
    // The issue's scenario 5 measures RSS with idle subscribers; the figure after the fan-out is
    // stricter (it also holds the heap the event deliveries grew) and is checked too.
    rssTarget("memory", `RSS with ${config.subscribers} idle subscribers`, memory.withSubscribersMb),
    rssTarget("memory-after-fanout", `RSS with ${config.subscribers} subscribers after the fan-out`, memory.withSubscribersAfterFanoutMb),
  ];

  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    totalSeconds: Math.round((performance.now() - began) / 100) / 10,
    machine,
    settings: {
      database: config.database,
      duration: config.duration,
      warmup: config.warmup,
      runs: config.runs,
      connections: config.connections,
      auditConnections: config.auditConnections,
      auditEvents: config.auditEvents,
      subscribers: config.subscribers,
      fanoutMutations: config.fanoutMutations,
      fanoutBudgetSeconds: config.fanoutBudget,
      seedMode: config.seedMode,
      only: [...config.only],
      cpuProfile: Boolean(config.cpuProfDir),
      serverNodeArgs: config.serverNodeArgs,
    },
    floors,
    scenarios,
    fanout,
    memory,
    targets,
    skipped,
  };

  log(`\n${renderTables(results)}\n`);
  for (const [name, why] of Object.entries(skipped)) log(`not measured: ${name}: ${why}`);
  const resultsPath = config.resultsPath ? resolve(config.resultsPath) : join(repoDir, "bench", "results.json");
  await mkdir(dirname(resultsPath), { recursive: true });
  await writeFile(`${resultsPath}.tmp`, JSON.stringify(results, null, 2) + "\n");
  await rename(`${resultsPath}.tmp`, resultsPath);
  log(`wrote ${resultsPath} (${results.totalSeconds} s in all)`);
}

await main();
