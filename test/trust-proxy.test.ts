import { spawn } from "node:child_process";
import { join } from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import {
  CreateImpersonationTokenDocument,
  ExchangeTokenDocument,
  ImpersonationAllowedDocument,
  NewestAuditEventDocument,
} from "./__generated__/graphql.js";
import { buildIntoTempDir } from "./harness/build.js";
import { asBackend, connectionParams, credentialHeaders, gql, gqlOk, type Credential } from "./harness/client.js";
import { createWorld, issueToken, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

/** SPEC §7, client address: X-Forwarded-For is believed from TRUST_PROXY's peers only. */

/** The address the audit log records for an audited call (a token issued) sent with `headers`. */
async function auditedAddress(t: TestApp, world: World, headers: Record<string, string>): Promise<string | null> {
  const issued = await fetch(t.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...credentialHeaders(world.supportManager.credential), ...headers },
    body: JSON.stringify({ query: print(CreateImpersonationTokenDocument), variables: { input: { projectId: world.projectId, userId: world.userId, reason: "Ticket 88: proxy check" } } }),
  });
  expect(((await issued.json()) as { errors?: unknown }).errors).toBeUndefined();
  const data = await gqlOk(t.url, world.admin.credential, NewestAuditEventDocument, { projectId: world.projectId });
  const event = data.auditEvents.edges[0]!.node;
  expect(event.action).toBe("CreateImpersonationToken");
  return event.ipAddress;
}

/** What the server sees as the socket peer of this test's connections (IPv4 or IPv4-mapped IPv6). */
const loopbackPeer = /^(::ffff:)?127\.0\.0\.1$/;

function codesFor(t: TestApp, credential: Credential, headers: Record<string, string>, count: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const result = await gql(t.url, credential, ImpersonationAllowedDocument, { projectId: "project_x" }, headers);
      return result.errors?.[0]?.extensions?.code ?? "OK";
    }),
  );
}

describe("TRUST_PROXY=loopback", () => {
  const { t, world } = useTestWorld({ app: { env: { TRUST_PROXY: "loopback", RATE_LIMIT_FAILURE_BURST: "3", RATE_LIMIT_FAILURE_REFILL_PER_SECOND: "1" } } });

  it("records the client named by X-Forwarded-For as the audit event's ipAddress, skipping trusted hops", async () => {
    expect(await auditedAddress(t, world, { "x-forwarded-for": "203.0.113.7" })).toBe("203.0.113.7");
    expect(await auditedAddress(t, world, { "x-forwarded-for": "198.51.100.23, 127.0.0.1" })).toBe("198.51.100.23");
    // Only the hops the trusted proxies vouch for count: what the client itself wrote further left does not.
    expect(await auditedAddress(t, world, { "x-forwarded-for": "10.9.9.9, 198.51.100.24" })).toBe("198.51.100.24");
    expect(await auditedAddress(t, world, {})).toMatch(loopbackPeer);
  });

  it("reads the WebSocket upgrade request the same way", async () => {
    const { token } = await issueToken(t, world);
    class ProxiedWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers: { "x-forwarded-for": "203.0.113.99" } });
      }
    }
    const client = createClient({ url: t.wsUrl, webSocketImpl: ProxiedWebSocket, connectionParams: connectionParams(world.backend), retryAttempts: 0, lazy: true });
    try {
      for await (const result of client.iterate({ query: print(ExchangeTokenDocument), variables: { token } })) expect(result.errors).toBeUndefined();
    } finally {
      await client.dispose();
    }
    const data = await gqlOk(t.url, world.admin.credential, NewestAuditEventDocument, { projectId: world.projectId });
    expect(data.auditEvents.edges[0]!.node).toEqual({ action: "AuthenticateImpersonationToken", ipAddress: "203.0.113.99" });
  });

  it("gives each forwarded client its own rate-limit budget", async () => {
    const wrong = asBackend(world.projectId, "mq_secret_wrong");
    const first = { "x-forwarded-for": "203.0.113.50" };
    expect(await codesFor(t, wrong, first, 3)).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"]);
    expect(await codesFor(t, wrong, first, 1)).toEqual(["RATE_LIMITED"]);
    expect(await codesFor(t, wrong, { "x-forwarded-for": "203.0.113.51" }, 1)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("without TRUST_PROXY", () => {
  const { t, world } = useTestWorld({ app: { env: { RATE_LIMIT_FAILURE_BURST: "3", RATE_LIMIT_FAILURE_REFILL_PER_SECOND: "1" } } });

  it("ignores a forged X-Forwarded-For: the audit log records the socket peer", async () => {
    expect(await auditedAddress(t, world, { "x-forwarded-for": "203.0.113.7" })).toMatch(loopbackPeer);
  });

  it("does not let a forged X-Forwarded-For buy a fresh rate-limit budget", async () => {
    const wrong = asBackend(world.projectId, "mq_secret_wrong");
    expect(await codesFor(t, wrong, { "x-forwarded-for": "203.0.113.60" }, 3)).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"]);
    expect(await codesFor(t, wrong, { "x-forwarded-for": "203.0.113.61" }, 1)).toEqual(["RATE_LIMITED"]);
  });
});

describe("TRUST_PROXY as a hop count or addresses", () => {
  const chain = { "x-forwarded-for": "198.51.100.1, 10.1.2.3, 203.0.113.9" };
  const cases: Array<{ trustProxy: string; expected: string | RegExp }> = [
    { trustProxy: "1", expected: "203.0.113.9" },
    { trustProxy: "2", expected: "10.1.2.3" },
    { trustProxy: "0", expected: loopbackPeer },
    // CIDRs and single addresses, mixed: the peer and 203.0.113.9 and 10.1.2.3 are trusted.
    { trustProxy: "127.0.0.0/8, ::1, 10.0.0.0/8, 203.0.113.9", expected: "198.51.100.1" },
    // The peer itself is not in the list: the header is not read at all.
    { trustProxy: "192.168.0.0/16,10.0.0.0/8", expected: loopbackPeer },
  ];
  for (const { trustProxy, expected } of cases) {
    it(`TRUST_PROXY="${trustProxy}" finds ${expected}`, async () => {
      const t = await startTestApp({ env: { TRUST_PROXY: trustProxy } });
      try {
        const world = await createWorld(t);
        const address = await auditedAddress(t, world, chain);
        if (typeof expected === "string") expect(address).toBe(expected);
        else expect(address).toMatch(expected);
      } finally {
        await t.close();
      }
    });
  }

  it("never records a trusted proxy's garbage entry as the address", async () => {
    const t = await startTestApp({ env: { TRUST_PROXY: "loopback" } });
    try {
      const world = await createWorld(t);
      expect(await auditedAddress(t, world, { "x-forwarded-for": "not-an-address" })).toMatch(loopbackPeer);
      expect(await auditedAddress(t, world, { "x-forwarded-for": "203.0.113.5:4711" })).toMatch(loopbackPeer);
    } finally {
      await t.close();
    }
  });
});

describe("a bad TRUST_PROXY", () => {
  it("is refused by the configuration, naming the variable and not trusting everyone for `true`", () => {
    for (const value of ["bogus", "10.0.0.0/33", "loopback,", "-1", "1.5", "101", "true"]) {
      expect(() => loadConfig({ TRUST_PROXY: value }), value).toThrow(/^TRUST_PROXY\b/);
    }
    expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8" }).trustProxy).toEqual({ addresses: ["loopback", "10.0.0.0/8"] });
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toEqual({ hops: 2 });
    expect(loadConfig({}).trustProxy).toEqual({ hops: 0 });
  });

  describe("at start-up", () => {
    let build: Awaited<ReturnType<typeof buildIntoTempDir>> | undefined;
    beforeAll(async () => {
      build = await buildIntoTempDir("masquerade-trust-proxy-build-", join("src", "main.js"));
    }, 120_000);
    afterAll(() => build?.remove());

    it("stops the server before it listens, naming the variable", async () => {
      for (const [name, value] of [["TRUST_PROXY", "10.0.0.0/33"], ["CORS_ORIGINS", "https://app.example.com/login"]] as const) {
        const child = spawn(process.execPath, [build!.entry], {
          env: { ...process.env, NODE_ENV: "development", PORT: "0", DATABASE_URL: "sqlite::memory:", LOG_LEVEL: "silent", [name]: value },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
        expect(code, output).not.toBe(0);
        expect(output).toContain(`${name} must be`);
        expect(output).not.toMatch(/listening/);
      }
    }, 60_000);
  });
});
