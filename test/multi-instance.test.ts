import "reflect-metadata";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MikroORM } from "@mikro-orm/core";
import { systemClock } from "../src/clock.js";
import { databaseOf } from "../src/db/database-of.js";
import { createOrm } from "../src/db/orm.js";
import { AuditEvent } from "../src/modules/audit/audit-event.entity.js";
import { chainHash, genesisHash } from "../src/modules/audit/audit-hash.js";
import { decodeProtectedHeader } from "jose";
import { keyActivationDelayMs, SigningKeyService } from "../src/modules/signing-keys/signing-key.service.js";
import { endpointCacheMs } from "../src/modules/webhooks/webhook-outbox.js";
import {
  AuditEventAddedSummaryDocument,
  AuthenticateSessionDocument,
  AuthenticateTokenDocument,
  CreateImpersonationTokenDocument,
  CreateTeamMemberDocument,
  CreateUserDocument,
  CreateWebhookEndpointDocument,
  RotateSigningKeyDocument,
  SetImpersonationPolicyDocument,
  UpdateTeamMemberDocument,
  VerifyAuditLogDocument,
} from "./__generated__/graphql.js";
import { loggedEventsAfter, orderReport, receivedUntil, slimAuditEventAdded, untilLive } from "./harness/audit-order.js";
import { asBackend, asMember, gql, gqlOk, type Credential } from "./harness/client.js";
import { freshDatabaseUrl, testDatabaseKind, type FreshDatabase } from "./harness/databases.js";
import { testRedisUrl } from "./harness/global-setup.js";
import { connectWs, waitUntil, within, type LiveSubscription, type WsConnection } from "./harness/ws-client.js";

/**
 * Scale-out: several instances on one PostgreSQL database and one Redis. vitest.config.ts runs this
 * file only in the PostgreSQL project, and only when Redis is reachable (the run's banner says so
 * otherwise).
 *
 * The instances are separate `node dist/src/main.js` processes built from this checkout, not two
 * startApp() calls in the test process: separate processes share nothing but PostgreSQL and Redis —
 * no module state, no in-process EventTarget, no event loop — so anything that crosses from one to
 * the other provably went through those two services, as it will in production. (Only the
 * signing-key startup race is met in-process, with one ORM per would-be instance, because it has
 * to be provoked more precisely than process startup allows.)
 */
if (testDatabaseKind() !== "postgresql") throw new Error("test/multi-instance.test.ts runs on PostgreSQL only (see vitest.config.ts)");

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const redisUrl = testRedisUrl();
/** Both instances sit behind one public URL (the JWT issuer), as behind a load balancer. */
const publicUrl = "http://masquerade.test";

const auditEventAdded = AuditEventAddedSummaryDocument;
const createToken = CreateImpersonationTokenDocument;
const authenticateToken = AuthenticateTokenDocument;
const authenticateSession = AuthenticateSessionDocument;

// ---------------------------------------------------------------------------------------------
// Instances in the test process (quick, for races inside startup).

describe("instances starting at once on one empty PostgreSQL database", () => {
  it("agree on one signing key, which each of them publishes", async () => {
    // startApp() migrates first, and the migration lock staggers instances that start together,
    // which mostly hides this race: meet it head-on with one ORM (one connection pool, as one
    // instance) per key service, all initialising at once on a migrated database without keys.
    const db = await freshDatabaseUrl();
    const orms: MikroORM[] = [];
    try {
      orms.push(await createOrm({ databaseUrl: db.url }));
      for (let i = 1; i < 6; i++) orms.push(await createOrm({ databaseUrl: db.url, migrate: false }));
      const services = orms.map((orm) => new SigningKeyService(databaseOf(orm.em), systemClock));
      await Promise.all(services.map((service) => service.init()));

      const active = await withPg(db.url, (client) => client.query<{ kid: string }>("select kid from signing_keys where retired_at is null"));
      expect(active.rows).toHaveLength(1);
      for (const service of services) {
        expect(service.jwks().keys.map((key) => key.kid)).toEqual([active.rows[0]!.kid]);
        expect(service.signingKey().kid).toBe(active.rows[0]!.kid);
      }
    } finally {
      await Promise.all(orms.map((orm) => orm.close(true)));
      await db.drop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Two server processes.

interface ServerProcess {
  name: string;
  child: ChildProcess;
  url: string;
  wsUrl: string;
  baseUrl: string;
  output(): string;
  exited: Promise<number | null>;
}

interface Setup {
  projectId: string;
  admin: Credential;
  supportManager: Credential;
  backend: Credential;
  userId: string;
}

/** Compiles this checkout (tsconfig.build.json) into a temporary directory that resolves this checkout's node_modules. */
function buildServer(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "masquerade-build-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  const tsc = spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(repoRoot, "tsconfig.build.json"), "--outDir", dir], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  if (tsc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function serverEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: "test",
    PORT: "0",
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    PUBLIC_URL: publicUrl,
    ...extra,
  };
}

/** Starts `node <build>/src/main.js`; resolves once it listens (its port is read from its log). */
function startServer(name: string, buildDir: string, env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(buildDir, "src/main.js")], { cwd: buildDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/localhost:(\d+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        const baseUrl = `http://127.0.0.1:${match[1]}`;
        resolve({ name, child, baseUrl, url: `${baseUrl}/graphql`, wsUrl: `ws://127.0.0.1:${match[1]}/graphql`, output: () => output, exited });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before listening:\n${output}`));
    });
  });
}

async function stopServer(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode === null) server.child.kill("SIGTERM");
  const timeout = setTimeout(() => server.child.kill("SIGKILL"), 20_000);
  const code = await server.exited;
  clearTimeout(timeout);
  return code;
}

async function withPg<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** `npm run bootstrap` against the shared database, then a member, a user and the policy through instance `on`. */
async function setUpProject(buildDir: string, databaseUrl: string, on: ServerProcess): Promise<Setup> {
  const boot = spawnSync(process.execPath, [join(buildDir, "scripts/bootstrap.js"), "--admin-email", "admin@example.com", "--project", "Demo", "--json"], {
    cwd: buildDir,
    env: serverEnv(databaseUrl),
    encoding: "utf8",
  });
  if (boot.status !== 0) throw new Error(`bootstrap failed:\n${boot.stdout}${boot.stderr}`);
  const result = JSON.parse(boot.stdout.trim().split("\n").at(-1)!) as { adminApiKey: string; projectId: string; projectSecret: string };
  const admin = asMember(result.adminApiKey);
  await gqlOk(on.url, admin, SetImpersonationPolicyDocument, { projectId: result.projectId, input: { allowImpersonation: true } });
  const member = await gqlOk(on.url, admin, CreateTeamMemberDocument, { input: { email: "support@example.com", role: "SUPPORT_MANAGER" } });
  const user = await gqlOk(on.url, admin, CreateUserDocument, { input: { projectId: result.projectId, email: "jane@customer.com" } });
  return {
    projectId: result.projectId,
    admin,
    supportManager: asMember(member.createTeamMember.apiKey),
    backend: asBackend(result.projectId, result.projectSecret),
    userId: user.createUser.id,
  };
}

describe("two server processes sharing one PostgreSQL database and one Redis", () => {
  let build: { dir: string; remove(): void };
  let db: FreshDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let setup: Setup;
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    build = buildServer();
    db = await freshDatabaseUrl();
    // Both at once, on an empty database: they race to migrate it and to create the first signing key.
    [a, b] = await Promise.all([startServer("instance A", build.dir, serverEnv(db.url)), startServer("instance B", build.dir, serverEnv(db.url))]);
    setup = await setUpProject(build.dir, db.url, a);
  }, 120_000);

  afterAll(async () => {
    for (const socket of sockets) await socket.close().catch(() => undefined);
    await Promise.all([a, b].filter(Boolean).map((server) => stopServer(server)));
    await db?.drop();
    build?.remove();
  }, 60_000);

  const issueToken = async (on: ServerProcess, reason: string) =>
    (await gqlOk(on.url, setup.supportManager, createToken, { input: { projectId: setup.projectId, userId: setup.userId, reason } })).createImpersonationToken;

  it("serve one signing key set: a session JWT issued by A is accepted by B", async () => {
    const [jwksA, jwksB] = await Promise.all(
      [a, b].map(async (server) => (await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json()) as { keys: unknown[] }),
    );
    expect(jwksA).toEqual(jwksB);
    expect(jwksA!.keys).toHaveLength(1);

    const { token } = await issueToken(a, "Checking the shared signing key");
    const session = (await gqlOk(a.url, setup.backend, authenticateToken, { token })).authenticateImpersonationToken;
    const onB = (await gqlOk(b.url, setup.backend, authenticateSession, { sessionJwt: session.sessionJwt })).authenticateSession;
    expect(onB.session.id).toBe(session.session.id);
  });

  it("deliver an audit event made on B to a subscriber on A exactly once (and the other way round)", async () => {
    const subscribers = [a, b].map((server) => {
      const connection = connectWs(server.wsUrl, setup.admin);
      sockets.push(connection);
      return { server, events: new EventLog(connection.subscribe(auditEventAdded, { projectId: setup.projectId })) };
    });
    // A subscription is live once its instance has subscribed to the Redis channel, which the
    // client cannot see: make events on the other instance until one arrives.
    for (const [index, { server, events }] of subscribers.entries()) {
      const other = index === 0 ? b : a;
      await waitUntil(
        async () => {
          await issueToken(other, `warm-up ${index}`);
          return events.waitFor((seen) => seen.some((event) => event.reason === `warm-up ${index}`), 300);
        },
        `the subscriber on ${server.name} hears ${other.name}`,
        15_000,
      );
    }

    const run = Math.random().toString(36).slice(2);
    await issueToken(b, `made on B ${run}`);
    await issueToken(a, `made on A ${run}`);
    // Redis delivers one connection's publishes in order: once a sentinel published after each
    // marker has arrived, every copy of that marker that was ever going to arrive has.
    await issueToken(b, `sentinel B ${run}`);
    await issueToken(a, `sentinel A ${run}`);

    const stored = await withPg(db.url, (client) =>
      client.query<{ id: string; reason: string }>("select id, reason from audit_events where reason in ($1, $2)", [`made on B ${run}`, `made on A ${run}`]),
    );
    expect(stored.rows).toHaveLength(2);
    for (const { server, events } of subscribers) {
      const seen = await events.until((log) => [`sentinel B ${run}`, `sentinel A ${run}`].every((reason) => log.some((event) => event.reason === reason)), 10_000);
      for (const origin of ["B", "A"]) {
        const copies = seen.filter((event) => event.reason === `made on ${origin} ${run}`);
        expect(copies, `${server.name} hears the event made on ${origin}`).toHaveLength(1);
        expect(copies[0]!.id).toBe(stored.rows.find((row) => row.reason === `made on ${origin} ${run}`)!.id);
        expect(copies[0]!.action).toBe("CreateImpersonationToken");
      }
    }
  });

  it("end a member's subscription on B once A disables the member, before any later event reaches it", async () => {
    const run = Math.random().toString(36).slice(2);
    const created = await gqlOk(a.url, setup.admin, CreateTeamMemberDocument, { input: { email: `viewer-${run}@example.com`, role: "VIEWER" } });
    const connection = connectWs(b.wsUrl, asMember(created.createTeamMember.apiKey));
    sockets.push(connection);
    const subscription = connection.subscribe(auditEventAdded, { projectId: setup.projectId });
    // Live once B hears A's events; each delivery also leaves the member's standing cached on B.
    await waitUntil(
      async () => {
        await issueToken(a, `warm-up viewer ${run}`);
        for (;;) {
          const result = await subscription.next(300).catch(() => null);
          if (!result) return false;
          if (result.data?.auditEventAdded.reason === `warm-up viewer ${run}`) return true;
        }
      },
      "the viewer's subscription on B hears A",
      15_000,
    );

    await gqlOk(a.url, setup.admin, UpdateTeamMemberDocument, { id: created.createTeamMember.member.id, input: { disabled: true } });
    await issueToken(a, `after disabling ${run}`);

    const end = await within(subscription.ended, 10_000, "the disabled member's subscription on B ends");
    expect(end.kind).toBe("error");
    if (end.kind === "error") expect(end.errors[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const delivered = subscription.buffered.map((result) => result.data?.auditEventAdded.reason);
    expect(delivered).not.toContain(`after disabling ${run}`);
  });

  it("use a token raced by 20 exchanges split across A and B exactly once", async () => {
    const auditCounts = () =>
      withPg(db.url, async (client) => {
        const result = await client.query<{ status: string; error_code: string | null; count: string }>(
          `select status, error_code, count(*) from audit_events
           where project_id = $1 and action = 'AuthenticateImpersonationToken' group by status, error_code`,
          [setup.projectId],
        );
        return Object.fromEntries(result.rows.map((row) => [`${row.status}:${row.error_code ?? ""}`, Number(row.count)]));
      });
    for (let round = 0; round < 3; round++) {
      const before = await auditCounts();
      const { token } = await issueToken(round % 2 ? b : a, `race ${round}`);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => gql(i % 2 ? b.url : a.url, setup.backend, authenticateToken, { token })),
      );
      const winners = results.filter((result) => result.data?.authenticateImpersonationToken);
      const codes = results.flatMap((result) => (result.errors ? [result.errors[0]!.extensions?.code] : []));
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(codes, `round ${round}`).toEqual(Array(19).fill("IMPERSONATION_TOKEN_ALREADY_USED"));

      const sessions = await withPg(db.url, (client) =>
        client.query("select s.id from sessions s join impersonation_tokens t on t.id = s.impersonation_token_id where t.token_hash = (select token_hash from impersonation_tokens where reason = $1)", [
          `race ${round}`,
        ]),
      );
      expect(sessions.rows.map((row) => row.id)).toEqual([winners[0]!.data!.authenticateImpersonationToken.session.id]);
      const after = await auditCounts();
      expect((after["SUCCESS:"] ?? 0) - (before["SUCCESS:"] ?? 0)).toBe(1);
      expect((after["FAILURE:IMPERSONATION_TOKEN_ALREADY_USED"] ?? 0) - (before["FAILURE:IMPERSONATION_TOKEN_ALREADY_USED"] ?? 0)).toBe(19);
    }
  });

  it("keep one project's audit log one hash chain while both instances write to it at once", async () => {
    const writes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        gql(i % 2 ? b.url : a.url, i % 3 ? setup.supportManager : setup.admin, createToken, {
          input: { projectId: setup.projectId, userId: setup.userId, reason: `chain ${i}` },
        }),
      ),
    );
    expect(writes.filter((write) => write.errors).map((write) => write.errors)).toEqual([]);

    const rows = await withPg(db.url, async (client) => (await client.query("select * from audit_events where project_id = $1 order by seq", [setup.projectId])).rows);
    expect(rows.filter((row) => String(row.reason).startsWith("chain "))).toHaveLength(40);
    let previous = genesisHash;
    rows.forEach((row, index) => {
      expect(Number(row.seq), "seq has no gaps").toBe(index + 1);
      expect(row.prev_hash, `event ${row.seq} links to its predecessor`).toBe(previous);
      expect(row.hash, `event ${row.seq} hashes its content`).toBe(chainHash(row.prev_hash, auditEventFromRow(row)));
      previous = row.hash;
    });

    for (const server of [a, b]) {
      const verified = await gqlOk(server.url, setup.admin, VerifyAuditLogDocument, { projectId: setup.projectId });
      expect(verified.verifyAuditLog).toEqual({ valid: true, checkedCount: rows.length, firstInvalidEventId: null });
    }
  });

  it("never send one webhook delivery from both instances at the same time", async () => {
    const receiver = await startOverlapReceiver(150);
    try {
      const created = await gqlOk(a.url, setup.admin, CreateWebhookEndpointDocument, {
        input: { projectId: setup.projectId, url: receiver.url, eventTypes: ["dashboard.impersonation_token.create"] },
      });
      const endpointId = created.createWebhookEndpoint.endpoint.id;
      // Instance B learns of an endpoint created on A within the outbox's cache window: events it
      // commits before then are not announced to it (documented). Start the bursts after it.
      await new Promise((resolve) => setTimeout(resolve, endpointCacheMs + 100));
      const deliveries = () =>
        withPg(db.url, async (client) => (await client.query<{ id: string; status: string; attempt_count: number }>("select id, status, attempt_count from webhook_deliveries where endpoint_id = $1", [endpointId])).rows);

      // Bursts of events committed on both instances at once wake both workers at once, each time.
      const perBurst = 20;
      const bursts = 3;
      for (let burst = 0; burst < bursts; burst++) {
        await Promise.all(Array.from({ length: perBurst }, (_, i) => issueToken(i % 2 ? b : a, `webhook ${burst}.${i}`)));
      }
      const total = perBurst * bursts;
      await waitUntil(async () => {
        const rows = await deliveries();
        return rows.length === total && rows.every((row) => row.status !== "PENDING");
      }, "every delivery is settled", 30_000);

      const rows = await deliveries();
      expect(rows.map((row) => row.status)).toEqual(Array(total).fill("SUCCEEDED"));
      expect(receiver.overlaps, "a delivery was being sent twice at once").toEqual([]);
      const perDelivery = receiver.countsById();
      expect(perDelivery.size).toBe(total);
      expect([...perDelivery.values()], "each delivery was sent once").toEqual(Array(total).fill(1));
      expect(rows.map((row) => row.attempt_count)).toEqual(Array(total).fill(1));
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it("deliver concurrent commits of both instances to a subscriber on each in seq order, with no gap", { timeout: 120_000 }, async () => {
    const subscriptions = [a, b].map((server) => {
      const connection = connectWs(server.wsUrl, setup.admin);
      sockets.push(connection);
      return connection.subscribe(slimAuditEventAdded, { projectId: setup.projectId });
    });
    let start = "";
    for (const [index, subscription] of subscriptions.entries()) {
      start = (await untilLive(subscription, (reason) => issueToken(index === 0 ? b : a, reason), `order ${index}`)).id;
    }
    // Rounds of commits on both instances at once; each instance publishes when its own commit
    // returns, so their messages used to arrive out of commit order (a few swaps in 500; 1,200 here
    // so that the old code failed every time).
    for (let round = 0; round < 6; round++) {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          gql(i % 2 ? b.url : a.url, setup.supportManager, createToken, { input: { projectId: setup.projectId, userId: setup.userId, reason: `order ${round}.${i}` } }),
        ),
      );
      expect(results.filter((result) => result.errors).map((result) => result.errors)).toEqual([]);
    }
    await issueToken(a, "end of the order test");

    const logged = await loggedEventsAfter(a.url, setup.admin, setup.projectId, start);
    expect(logged).toHaveLength(1201);
    for (const [index, subscription] of subscriptions.entries()) {
      const received = await receivedUntil(subscription, "end of the order test", 30_000);
      // The subscriber on A still holds the warm-up events made for B's: compare from `start` on.
      const fromStart = received.slice(received.findIndex((event) => event.id === start) + 1);
      expect(fromStart.map((event) => event.id), `on ${[a, b][index]!.name}: ${orderReport(fromStart, logged)}`).toEqual(logged.map((event) => event.id));
    }
  });

  it("publish a key rotated in on A from an instance that receives no request, before A signs with it", { timeout: 60_000 }, async () => {
    // A third instance that only ever answers the JWKS requests below (which do not reload keys):
    // it learns of the rotation from its reload timer alone, here every 200 ms (SIGNING_KEY_REFRESH_MS).
    const idle = await startServer("instance C", build.dir, serverEnv(db.url, { SIGNING_KEY_REFRESH_MS: "200" }));
    try {
      const kids = async (server: ServerProcess) =>
        ((await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      const before = await kids(idle);
      const rotatedAt = Date.now();
      const newKid = (await gqlOk(a.url, setup.admin, RotateSigningKeyDocument)).rotateSigningKey;
      expect(before).not.toContain(newKid);
      expect(await kids(a)).toContain(newKid);

      // Well within the 70 s before A signs with it (the old code reloaded at most once a minute,
      // and only when a request came).
      await waitUntil(async () => (await kids(idle)).includes(newKid), "the idle instance publishes the new key", 10_000);
      expect(Date.now() - rotatedAt).toBeLessThan(keyActivationDelayMs);
      // ...and A does not sign with it yet.
      const { token } = await issueToken(a, "signed with the old key");
      const session = (await gqlOk(a.url, setup.backend, authenticateToken, { token })).authenticateImpersonationToken;
      expect(decodeProtectedHeader(session.sessionJwt).kid).not.toBe(newKid);
      expect(before).toContain(decodeProtectedHeader(session.sessionJwt).kid);
    } finally {
      await stopServer(idle);
    }
  });

  it("refuse to start an instance whose REDIS_URL cannot be reached, saying why", async () => {
    const failing = startServer("instance C", build.dir, serverEnv(db.url, { REDIS_URL: "redis://127.0.0.1:1" }));
    await expect(failing).rejects.toThrow(/exited with code [1-9][\s\S]*REDIS_URL redis:\/\/127\.0\.0\.1:1 cannot be reached/);
  });

  it("stop cleanly on SIGTERM with subscribers still connected, closing Redis and the database", async () => {
    expect(sockets.length).toBeGreaterThan(0);
    const codes = await Promise.all([a, b].map((server) => stopServer(server)));
    const output = `${a.output()}\n${b.output()}`;
    expect(codes, output).toEqual([0, 0]);
    expect(output.match(/Stopped cleanly\./g)).toHaveLength(2);
    expect(output).not.toMatch(/Redis .*(failed|connection:)/);
  });
});

type SeenEvent = { id: string; action: string; reason: string | null };

/** Collects what a subscription delivers, for questions like "how many copies of X arrived". */
class EventLog {
  readonly received: SeenEvent[] = [];

  constructor(private readonly subscription: LiveSubscription<{ auditEventAdded: SeenEvent }>) {}

  /** Whether `done(received)` comes to hold within `timeoutMs`. */
  async waitFor(done: (received: SeenEvent[]) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const result = await this.subscription.next(left).catch(() => null);
      if (!result) return done(this.received);
      if (result.errors?.length) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
      this.received.push(result.data!.auditEventAdded);
    }
    return true;
  }

  /** Waits until `done(received)` holds, and returns everything received. */
  async until(done: (received: SeenEvent[]) => boolean, timeoutMs: number): Promise<SeenEvent[]> {
    if (!(await this.waitFor(done, timeoutMs))) {
      throw new Error(`subscription: condition not met within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((event) => event.reason))}`);
    }
    return this.received;
  }
}

/** An audit_events row as the entity the hash covers. */
function auditEventFromRow(row: Record<string, any>): AuditEvent {
  return Object.assign(new AuditEvent(), {
    id: row.id,
    projectId: row.project_id,
    seq: Number(row.seq),
    action: row.action,
    eventType: row.event_type,
    status: row.status,
    errorCode: row.error_code,
    requestId: row.request_id,
    userId: row.user_id,
    impersonatorId: row.impersonator_id,
    impersonatorEmail: row.impersonator_email,
    reason: row.reason,
    sessionId: row.session_id,
    mode: row.mode,
    impersonationRequestId: row.impersonation_request_id,
    ipAddress: row.ip_address,
    userAgent: row.user_agent,
    actorType: row.actor_type,
    actorId: row.actor_id,
    details: row.details,
    createdAt: new Date(row.created_at),
  });
}

/**
 * A webhook receiver that holds each request for `holdMs` before answering 200, and records every
 * time a request arrives for a `webhook-id` that is already being received: two workers sending one
 * delivery at the same time.
 */
async function startOverlapReceiver(holdMs: number) {
  const inFlight = new Map<string, number>();
  const counts = new Map<string, number>();
  const overlaps: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const id = String(req.headers["webhook-id"] ?? "(none)");
    counts.set(id, (counts.get(id) ?? 0) + 1);
    if (inFlight.get(id)) overlaps.push(id);
    inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
    req.resume();
    setTimeout(() => {
      inFlight.set(id, inFlight.get(id)! - 1);
      res.writeHead(200).end();
    }, holdMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    overlaps,
    countsById: () => new Map(counts),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
