import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { SettingError } from "../src/errors/setting-error.js";
import { startApp } from "../src/server.js";
import { ImpersonationAllowedDocument } from "./__generated__/graphql.js";
import { slimAuditEventAdded } from "./harness/audit-order.js";
import { asMember, gql, gqlOk } from "./harness/client.js";
import { AUTHENTICATE_TOKEN, codeOf, createToken, newMember, openSession, REVOKE_SESSION, UPDATE_MEMBER } from "./harness/core-operations.js";
import { freshDatabaseUrl } from "./harness/databases.js";
import { freePort } from "./harness/own-redis.js";
import { createWorld, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { startWebhookReceiver, webhookOps, type WebhookReceiver } from "./harness/webhook-receiver.js";
import { connectWs, waitUntil } from "./harness/ws-client.js";

/** One scrape, parsed: every sample by its name and labels. */
class Scrape {
  readonly samples = new Map<string, number>();
  constructor(readonly text: string) {
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
      const labels = [...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name!, value!] as const);
      this.samples.set(Scrape.key(match[1]!, Object.fromEntries(labels)), Number(match[3]));
    }
  }

  static key(name: string, labels: Record<string, string>): string {
    return `${name}{${Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
  }

  /** A sample's value; 0 for a labelled counter not yet counted. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples.get(Scrape.key(name, labels)) ?? 0;
  }

  /** The sum over every sample of `name`. */
  sum(name: string): number {
    let total = 0;
    for (const [key, value] of this.samples) if (key.startsWith(`${name}{`)) total += value;
    return total;
  }
}

let t: TestApp;
let world: World;
let receiver: WebhookReceiver;
beforeAll(async () => {
  t = await startTestApp({ env: { METRICS_PORT: String(await freePort()), WEBHOOK_POLL_INTERVAL_MS: "50", RATE_LIMIT_FAILURE_BURST: "2" } });
  world = await createWorld(t);
  receiver = await startWebhookReceiver();
}, 60_000);
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

async function scrape(): Promise<Scrape> {
  const response = await fetch(`http://127.0.0.1:${t.app.metricsPort}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Scrape(await response.text());
}

const ops = "masquerade_graphql_operations_total";
const http = (operation: string, outcome = "OK") => ({ operation, outcome, transport: "http" });

describe("metrics on METRICS_PORT", () => {
  it("serves the process defaults and every family, approvals at 0", async () => {
    const now = await scrape();
    expect(now.sum("process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(now.text).toContain("# TYPE nodejs_eventloop_lag_seconds gauge");
    for (const family of [
      "masquerade_graphql_operations_total counter",
      "masquerade_impersonation_tokens_created_total counter",
      "masquerade_impersonation_token_exchanges_total counter",
      "masquerade_sessions_revoked_total counter",
      "masquerade_approval_requests_total counter",
      "masquerade_webhook_deliveries_total counter",
      "masquerade_webhook_outbox_pending gauge",
      "masquerade_live_subscribers gauge",
      "masquerade_rate_limited_total counter",
    ]) {
      expect(now.text).toContain(`# TYPE ${family}`);
    }
    expect(now.sum("masquerade_approval_requests_total")).toBe(0);
  });

  it("moves each counter by exactly what a flow did", async () => {
    const before = await scrape();

    // A SUPPORT_MANAGER with a session, disabled: the kill switch revokes it (member_disabled).
    const member = await newMember(t, world, "SUPPORT_MANAGER");
    await openSession(t, world, { member });
    await gqlOk(t.url, world.admin.credential, UPDATE_MEMBER, { id: member.id, input: { disabled: true } });

    // From here on, token creations are delivered to a receiver whose first answer is a 500.
    receiver.failNext(1);
    await gqlOk(t.url, world.developer.credential, webhookOps.create, { input: { projectId: world.projectId, url: receiver.url, eventTypes: ["dashboard.impersonation_token.create"] } });
    const { token } = await createToken(t, world);
    const session = (await gqlOk(t.url, world.backend, AUTHENTICATE_TOKEN, { token })).authenticateImpersonationToken;
    expect(codeOf(await gql(t.url, world.backend, AUTHENTICATE_TOKEN, { token: "imp_not_a_token_anyone_issued" }))).toBe("IMPERSONATION_TOKEN_NOT_FOUND");
    await gqlOk(t.url, world.backend, REVOKE_SESSION, { sessionId: session.session.id });
    // Revoking it again succeeds and revokes nothing.
    await gqlOk(t.url, world.backend, REVOKE_SESSION, { sessionId: session.session.id });
    // RATE_LIMIT_FAILURE_BURST=2: the third unknown key in a row is refused RATE_LIMITED.
    const unknownKey = asMember("mk_not_a_key_anyone_has");
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push(codeOf(await gql(t.url, unknownKey, ImpersonationAllowedDocument, { projectId: world.projectId })));
    expect(codes).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]);

    // One live subscriber over WebSocket, then gone.
    const connection = connectWs(t.wsUrl, world.admin.credential);
    try {
      const subscription = connection.subscribe(slimAuditEventAdded, { projectId: world.projectId });
      await waitUntil(async () => (await scrape()).value("masquerade_live_subscribers") === 1, "the subscriber is counted live");
      subscription.unsubscribe();
      await waitUntil(async () => (await scrape()).value(ops, { operation: "auditEventAdded", outcome: "OK", transport: "ws" }) === before.value(ops, { operation: "auditEventAdded", outcome: "OK", transport: "ws" }) + 1, "the subscription is counted once it completes");
    } finally {
      await connection.close();
    }

    // The delivery: refused once (a retry is scheduled and it is pending), then sent when due.
    await waitUntil(async () => (await scrape()).value("masquerade_webhook_deliveries_total", { outcome: "retry" }) === 1, "the failed attempt is counted", 10_000);
    expect((await scrape()).value("masquerade_webhook_outbox_pending")).toBe(1);
    t.clock.advance(10 * 60_000);
    await waitUntil(async () => (await scrape()).value("masquerade_webhook_deliveries_total", { outcome: "succeeded" }) === 1, "the retried attempt is counted", 10_000);
    expect(receiver.requests.map((request) => request.status)).toEqual([500, 204]);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => after.value(name, labels) - before.value(name, labels);
    expect({
      tokensCreated: moved("masquerade_impersonation_tokens_created_total", { outcome: "OK" }),
      exchanged: moved("masquerade_impersonation_token_exchanges_total", { outcome: "OK" }),
      exchangeNotFound: moved("masquerade_impersonation_token_exchanges_total", { outcome: "IMPERSONATION_TOKEN_NOT_FOUND" }),
      exchangesInAll: after.sum("masquerade_impersonation_token_exchanges_total") - before.sum("masquerade_impersonation_token_exchanges_total"),
      revokedExplicitly: moved("masquerade_sessions_revoked_total", { cause: "explicit" }),
      revokedMemberDisabled: moved("masquerade_sessions_revoked_total", { cause: "member_disabled" }),
      revokedInAll: after.sum("masquerade_sessions_revoked_total") - before.sum("masquerade_sessions_revoked_total"),
      rateLimited: moved("masquerade_rate_limited_total", { limit: "credential" }),
      rateLimitedInAll: after.sum("masquerade_rate_limited_total") - before.sum("masquerade_rate_limited_total"),
      deliveries: ["succeeded", "retry", "failed"].map((outcome) => moved("masquerade_webhook_deliveries_total", { outcome })),
      pending: after.value("masquerade_webhook_outbox_pending"),
      live: after.value("masquerade_live_subscribers"),
      approvals: after.sum("masquerade_approval_requests_total"),
    }).toEqual({
      tokensCreated: 2,
      exchanged: 2,
      exchangeNotFound: 1,
      exchangesInAll: 3,
      revokedExplicitly: 1,
      revokedMemberDisabled: 1,
      revokedInAll: 2,
      rateLimited: 1,
      rateLimitedInAll: 1,
      deliveries: [1, 1, 0],
      pending: 0,
      live: 0,
      approvals: 0,
    });
    expect({
      createTeamMember: moved(ops, http("createTeamMember")),
      createImpersonationToken: moved(ops, http("createImpersonationToken")),
      authenticateImpersonationToken: moved(ops, http("authenticateImpersonationToken")),
      notFound: moved(ops, http("authenticateImpersonationToken", "IMPERSONATION_TOKEN_NOT_FOUND")),
      updateTeamMember: moved(ops, http("updateTeamMember")),
      createWebhookEndpoint: moved(ops, http("createWebhookEndpoint")),
      revokeSession: moved(ops, http("revokeSession")),
      unauthenticated: moved(ops, http("impersonationPolicy", "UNAUTHENTICATED")),
      rateLimited: moved(ops, http("impersonationPolicy", "RATE_LIMITED")),
      subscription: moved(ops, { operation: "auditEventAdded", outcome: "OK", transport: "ws" }),
      // Nothing else: 13 operations over HTTP and 1 over WebSocket were sent.
      inAll: after.sum(ops) - before.sum(ops),
    }).toEqual({
      createTeamMember: 1,
      createImpersonationToken: 2,
      authenticateImpersonationToken: 2,
      notFound: 1,
      updateTeamMember: 1,
      createWebhookEndpoint: 1,
      revokeSession: 2,
      unauthenticated: 2,
      rateLimited: 1,
      subscription: 1,
      inAll: 14,
    });
  });

  it("labels an operation by its root field, never by the client's operation name", async () => {
    const before = await scrape();
    await gqlOk(t.url, world.admin.credential, "query AnyNameAtAll { __typename }");
    await gqlOk(t.url, world.admin.credential, "query AnotherName { __typename impersonationPolicy(projectId: \"x\") { allowImpersonation } }").catch(() => undefined);
    expect(codeOf(await gql(t.url, world.admin.credential, "query Broken { nope }"))).toBe("GRAPHQL_VALIDATION_FAILED");
    const after = await scrape();
    expect(after.text).not.toContain("AnyNameAtAll");
    expect(after.value(ops, http("__typename")) - before.value(ops, http("__typename"))).toBe(1);
    expect(after.sum(ops) - before.sum(ops)).toBe(3);
    expect(after.value(ops, http("unknown", "GRAPHQL_VALIDATION_FAILED")) - before.value(ops, http("unknown", "GRAPHQL_VALIDATION_FAILED"))).toBe(1);
    const multiple = [...after.samples.keys()].filter((key) => key.includes('operation="multiple"'));
    expect(multiple).toHaveLength(1);
  });

  it("counts a WebSocket operation refused before it runs once, by its code", async () => {
    const refused = { operation: "unknown", outcome: "GRAPHQL_VALIDATION_FAILED", transport: "ws" };
    const before = await scrape();
    const connection = connectWs(t.wsUrl, world.admin.credential);
    try {
      const end = await connection.subscribe(parse("subscription { noSuchField }") as TypedDocumentNode<unknown, Record<string, never>>, {}).ended;
      expect(end).toMatchObject({ kind: "error", errors: [{ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }] });
    } finally {
      await connection.close();
    }
    const after = await scrape();
    expect(after.value(ops, refused) - before.value(ops, refused)).toBe(1);
    expect(after.sum(ops) - before.sum(ops)).toBe(1);
  });
});

describe("METRICS_PORT", () => {
  it("is refused unless a port from 1 to 65535 other than PORT", () => {
    for (const env of [{ METRICS_PORT: "0" }, { METRICS_PORT: "70000" }, { METRICS_PORT: "9o" }, { PORT: "4000", METRICS_PORT: "4000" }]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(SettingError);
      expect(() => loadConfig(env)).toThrow(/^METRICS_PORT must /);
    }
    expect(loadConfig({ METRICS_PORT: "9464" }).metricsPort).toBe(9464);
    expect(loadConfig({}).metricsPort).toBeUndefined();
  });

  it("in use stops the start with a SettingError naming METRICS_PORT, and frees the main port it had taken", async () => {
    const held: Server = createServer();
    await new Promise<void>((resolve) => held.listen(0, resolve));
    const port = (held.address() as { port: number }).port;
    const database = await freshDatabaseUrl();
    const mainPort = await freePort();
    try {
      const config = loadConfig({ PORT: String(mainPort), DATABASE_URL: database.url, METRICS_PORT: String(port), LOG_LEVEL: "silent" });
      await expect(startApp({ config })).rejects.toThrow(new SettingError("METRICS_PORT", `${port} is already in use`));
      // The main listener it had opened is closed again: its port can be had.
      const again: Server = createServer();
      await new Promise<void>((resolve, reject) => again.once("error", reject).listen(mainPort, resolve));
      await new Promise<void>((resolve) => again.close(() => resolve()));
    } finally {
      held.close();
      await database.drop();
    }
  });
});
