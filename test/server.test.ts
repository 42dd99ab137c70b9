import { request } from "node:http";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery, parse, print } from "graphql";
import { ImpersonationAllowedDocument, PolicyDocument } from "./__generated__/graphql.js";
import { anonymous, gql } from "./harness/client.js";
import { connectWs, within } from "./harness/ws-client.js";
import { createWorld } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

describe("outside production", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it("serves liveness, the JWKS and Apollo Sandbox", async () => {
    const health = await fetch(`${t.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const jwks = (await (await fetch(`${t.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys, "a fresh install has one signing key").toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    const sandbox = await fetch(t.url, { headers: { accept: "text/html" } });
    expect(sandbox.status).toBe(200);
    expect(await sandbox.text()).toMatch(/sandbox/i);
  });

  it("allows introspection", async () => {
    const result = await gql(t.url, anonymous, "{ __schema { queryType { name } } }");
    expect(result.data).toEqual({ __schema: { queryType: { name: "Query" } } });
  });

  it("answers graphql-js's standard introspection query (what codegen and IDEs send), deeper than the depth limit", async () => {
    const result = await gql(t.url, anonymous, getIntrospectionQuery());
    expect(result.errors).toBeUndefined();
    const schema = buildClientSchema(result.data as IntrospectionQuery);
    expect(schema.getMutationType()?.getFields()).toHaveProperty("authenticateImpersonationToken");
  });

  it("refuses operations nested deeper than the limit (introspection's own, 16, included)", async () => {
    const deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } } } } }";
    const result = await gql(t.url, anonymous, deep);
    expect(result.errors?.[0]?.message).toMatch(/nested deeper/);
  });

  it("closes a WebSocket that sends a server-only message with 4400, as the protocol says", async () => {
    for (const type of ["next", "connection_ack"]) {
      const socket = new WebSocket(t.wsUrl, "graphql-transport-ws");
      const messages: string[] = [];
      socket.on("message", (data) => messages.push(String(data)));
      const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
      await new Promise<void>((resolve) => socket.once("open", () => resolve()));
      socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
      await within(
        new Promise<void>((resolve) => socket.once("message", () => resolve())),
        5_000,
        "connection_ack",
      );
      socket.send(JSON.stringify({ id: "a", type, payload: {} }));
      expect(await within(closed, 5_000, "the close")).toEqual({ code: 4400, reason: "Invalid message received" });
    }
  });

  it("answers unknown paths with 404", async () => {
    expect((await fetch(`${t.baseUrl}/nope`)).status).toBe(404);
  });
});

describe("in production (NODE_ENV=production)", () => {
  const { t, world } = useTestWorld({ app: { env: { NODE_ENV: "production" } } });

  it("turns introspection off", async () => {
    const result = await gql(t.url, world.admin.credential, "{ __schema { queryType { name } } }");
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("serves no landing page", async () => {
    const page = await fetch(t.url, { headers: { accept: "text/html" } });
    expect(await page.text()).not.toMatch(/sandbox/i);
  });

  it("applies the depth limit and hides suggestions on the WebSocket transport too", async () => {
    const ws = connectWs(t.wsUrl, world.admin.credential);
    try {
      const misspelled = ws.subscribe(parse("subscription { auditEventAddedd(projectId: \"x\") { id } }") as TypedDocumentNode<unknown, Record<string, never>>, {});
      const end = await within(misspelled.ended, 5_000, "validation error");
      expect(end.kind).toBe("error");
      const message = end.kind === "error" ? end.errors[0]!.message : "";
      expect(message).toMatch(/Cannot query field/);
      expect(message).not.toMatch(/Did you mean/);

      const deep = ws.subscribe(
        parse("query { __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } } } } }") as TypedDocumentNode<unknown, Record<string, never>>,
        {},
      );
      const deepEnd = await within(deep.ended, 5_000, "depth error");
      const messages = deepEnd.kind === "error" ? deepEnd.errors.map((e) => e.message).join("\n") : "";
      expect(messages).toMatch(/nested deeper/);
      // Introspection is off on this transport as well.
      expect(messages).toMatch(/introspection/i);
    } finally {
      await ws.close();
    }
  });

  it("does not suggest field names", async () => {
    const result = await gql(t.url, world.admin.credential, "{ impersonationPolicyy(projectId: \"x\") { projectId } }");
    expect(result.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it("refuses introspection in plain words, naming no framework", async () => {
    const result = await gql(t.url, world.admin.credential, "{ __schema { queryType { name } } }");
    expect(result.errors?.[0]?.message).toBe("Introspection is disabled on this server.");
  });

  it("answers variables that do not coerce with BAD_USER_INPUT and no suggestion, on HTTP and WebSocket alike", async () => {
    const createMember = "mutation($r: TeamRole!) { createTeamMember(input: { email: \"typo@example.com\", role: $r }) { apiKey } }";
    const http = await gql(t.url, world.admin.credential, createMember, { r: "ADMN" });
    expect(http.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(http.errors?.[0]?.message).not.toMatch(/Did you mean/);

    const ws = connectWs(t.wsUrl, world.admin.credential);
    try {
      const documents: Array<[string, Record<string, unknown>]> = [
        [createMember, { r: "ADMN" }],
        ["subscription($p: ID!, $f: AuditEventFilter) { auditEventAdded(projectId: $p, filter: $f) { id } }", { p: world.projectId, f: { status: "SUCESS" } }],
        ["subscription($p: ID!, $f: AuditEventFilter) { auditEventAdded(projectId: $p, filter: $f) { id } }", { p: world.projectId, f: { since: "not-a-date" } }],
      ];
      for (const [document, variables] of documents) {
        const operation = ws.subscribe(parse(document) as TypedDocumentNode<unknown, Record<string, unknown>>, variables);
        const result = await operation.next(5_000);
        expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result.errors)).toBe("BAD_USER_INPUT");
        expect(result.errors?.[0]?.message).not.toMatch(/Did you mean/);
      }
    } finally {
      await ws.close();
    }
  });

  it("answers a syntax error on the WebSocket for that operation alone, keeping the socket open", async () => {
    const ws = connectWs(t.wsUrl, world.admin.credential);
    try {
      const refusal = await new Promise<unknown>((resolve) => {
        ws.client.subscribe({ query: "subscription { " }, { next: () => undefined, error: resolve, complete: () => resolve(null) });
      });
      expect(JSON.stringify(refusal)).toMatch(/GRAPHQL_PARSE_FAILED/);
      const still = ws.subscribe(PolicyDocument, { projectId: world.projectId });
      expect((await still.next(5_000)).data).toEqual({
        impersonationPolicy: { projectId: world.projectId, allowImpersonation: true, allowFrontendAuthentication: false, tokenTtlSeconds: 300, sessionDurationMinutes: 60 },
      });
    } finally {
      await ws.close();
    }
  });
});

describe("WebSocket heartbeat", () => {
  it("pings clients and drops the ones that stop answering", async () => {
    const t = await startTestApp({ env: { WS_PING_INTERVAL_MS: "100" } });
    try {
      const open = (autoPong: boolean) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(t.wsUrl, "graphql-transport-ws", { autoPong });
          socket.once("open", () => resolve(socket));
          socket.once("error", reject);
        });
      const healthy = await open(true);
      const silent = await open(false);
      let pings = 0;
      healthy.on("ping", () => pings++);
      const silentClosed = new Promise<void>((resolve) => silent.once("close", () => resolve()));
      await within(silentClosed, 5_000, "the silent client to be dropped");
      expect(pings).toBeGreaterThan(0);
      expect(healthy.readyState).toBe(WebSocket.OPEN);
      healthy.close();
    } finally {
      await t.close();
    }
  });
});

describe("shutdown", () => {
  it("lets an in-flight request finish, then refuses new connections", async () => {
    const t = await startTestApp();
    const world = await createWorld(t);
    const body = JSON.stringify({ query: print(ImpersonationAllowedDocument), variables: { projectId: world.projectId } });
    const port = new URL(t.url).port;
    let closing: Promise<void> | undefined;
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      // `Expect: 100-continue`: the server answers "100 Continue" once its request handler has the
      // request, which is the moment to begin closing, with the body still to come.
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/graphql",
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${world.admin.apiKey}`, expect: "100-continue" },
        },
        (res) => {
          let text = "";
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.once("continue", () => {
        // Half the body now: the request is in flight on the server when close() begins.
        req.write(body.slice(0, 10), () => {
          // close() stops the listener and starts draining before it first yields.
          closing = t.close();
          req.end(body.slice(10));
        });
      });
      req.flushHeaders();
    });
    const result = await response;
    expect(result.status).toBe(200);
    expect(JSON.parse(result.text)).toEqual({ data: { impersonationPolicy: { allowImpersonation: true } } });
    await closing;
    await expect(fetch(`${t.baseUrl}/healthz`)).rejects.toThrow();
  });
});
