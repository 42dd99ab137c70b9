import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { print, type DocumentNode } from "graphql";
import WebSocket from "ws";
import { describe, expect, it } from "vitest";
import { anonymous, credentialHeaders, gql, type Credential, type GraphQLErrorShape } from "./harness/client.js";
import { CREATE_TOKEN, openSession, SESSIONS } from "./harness/core-operations.js";
import { within } from "./harness/ws-client.js";
import { startTestApp } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

const statements: string[] = [];

const { t, world } = useTestWorld({ app: { onQuery: (sql) => statements.push(sql) } });

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `request` as the raw bytes of one HTTP/1.1 exchange (what fetch would refuse to send) and reads the answer. */
function rawHttp(request: string | Buffer): Promise<RawResponse> {
  return within(
    new Promise<RawResponse>((resolve, reject) => {
      const socket = connect(t.app.port, "127.0.0.1");
      const chunks: Buffer[] = [];
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("error", reject);
      socket.on("close", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const [head = "", ...rest] = text.split("\r\n\r\n");
        const [statusLine = "", ...headerLines] = head.split("\r\n");
        const status = Number(statusLine.split(" ")[1]);
        if (!status) return reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
        const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
        resolve({ status, headers, body: rest.join("\r\n\r\n") });
      });
      // Not end(): a half-closed socket may be torn down before the server can answer. Every request here says Connection: close.
      socket.write(request);
    }),
    10_000,
    "a raw HTTP response",
  );
}

function post(body: string | Buffer, contentType = "application/json", extraHeaders: Record<string, string> = {}): Promise<Response> {
  return fetch(t.url, { method: "POST", headers: { "content-type": contentType, ...extraHeaders }, body });
}

async function errorsOf(response: Response): Promise<GraphQLErrorShape[]> {
  const text = await response.text();
  const body = JSON.parse(text) as { errors?: GraphQLErrorShape[] };
  return body.errors ?? [];
}

async function expectHealthy(): Promise<void> {
  const health = await fetch(`${t.baseUrl}/healthz`);
  expect(health.status).toBe(200);
}

/** A graphql-transport-ws socket driven by hand, to send messages graphql-ws's client cannot build. */
async function rawWs(credential: Credential): Promise<{
  send(text: string): void;
  next(id: string): Promise<{ type: string; payload?: any }>;
  readonly closeCode: number | null;
  close(): void;
}> {
  const socket = new WebSocket(t.wsUrl, "graphql-transport-ws");
  const messages: Array<{ id?: string; type: string; payload?: any }> = [];
  const waiters: Array<() => void> = [];
  let closeCode: number | null = null;
  socket.on("message", (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on("close", (code) => {
    closeCode = code;
    for (const wake of waiters.splice(0)) wake();
  });
  await within(new Promise<void>((resolve) => socket.once("open", () => resolve())), 5_000, "the socket opens");
  const params = credential.kind === "none" ? {} : credential.kind === "frontend" ? { publicToken: credential.publicToken } : { authorization: credentialHeaders(credential).authorization };
  socket.send(JSON.stringify({ type: "connection_init", payload: params }));
  const take = (match: (m: { id?: string; type: string }) => boolean, what: string) =>
    within(
      (async () => {
        for (;;) {
          const index = messages.findIndex(match);
          if (index >= 0) return messages.splice(index, 1)[0]!;
          if (closeCode !== null) throw new Error(`socket closed with ${closeCode} while waiting for ${what}`);
          await new Promise<void>((resolve) => waiters.push(resolve));
        }
      })(),
      10_000,
      what,
    );
  await take((m) => m.type === "connection_ack", "connection_ack");
  return {
    send: (text) => socket.send(text),
    next: (id) => take((m) => m.id === id && (m.type === "next" || m.type === "error" || m.type === "complete"), `a message for ${id}`),
    get closeCode() {
      return closeCode;
    },
    close: () => socket.close(),
  };
}

const FILTERED_AUDIT = `query($p: ID!, $f: AuditEventFilter) { auditEvents(projectId: $p, filter: $f) { edges { cursor } } }`;

describe("request targets the URL parser rejects", () => {
  it.each(["//:99999", "//%", "http://[::1", "//a b"])("answers %j with 400 and a JSON error, and keeps serving", async (target) => {
    const response = await rawHttp(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(response.status).toBe(400);
    await expectHealthy();
    if (response.headers["content-type"]?.includes("json")) {
      expect(JSON.parse(response.body).errors[0].extensions.code).toBe("BAD_REQUEST");
    }
  });
});

describe("deeply nested JSON variables", () => {
  const depth = 200_000;
  const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;

  it("are refused as BAD_USER_INPUT over HTTP, not a stack overflow", async () => {
    const body = `{"query":${JSON.stringify(FILTERED_AUDIT)},"variables":{"p":${JSON.stringify(world.projectId)},"f":{"actions":${nested}}}}`;
    const response = await post(body);
    expect(response.status).toBe(400);
    const errors = await errorsOf(response);
    expect(errors[0]!.extensions?.code).toBe("BAD_USER_INPUT");
    expect(errors[0]!.message).toMatch(/nest/i);
  });

  it("are refused in extensions and in a GET's URL as well", async () => {
    const body = `{"query":"{ __typename }","extensions":{"x":${nested}}}`;
    const fromBody = await post(body);
    expect(fromBody.status).toBe(400);
    expect((await errorsOf(fromBody))[0]!.extensions?.code).toBe("BAD_USER_INPUT");
    const shallow = "[".repeat(100) + "]".repeat(100);
    const fromUrl = await fetch(`${t.url}?query=${encodeURIComponent("{ __typename }")}&variables=${encodeURIComponent(`{"a":${shallow}}`)}`, {
      headers: { "apollo-require-preflight": "1" },
    });
    expect(fromUrl.status).toBe(400);
    expect((await errorsOf(fromUrl))[0]!.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("accept 64 levels, and are refused at 65", async () => {
    const nestedList = (levels: number) => `${"[".repeat(levels - 1)}"SetImpersonationPolicy"${"]".repeat(levels - 1)}`;
    // `f` is one level, `actions` a second: the innermost list holds the string at the given depth.
    const send = (levels: number) =>
      post(`{"query":${JSON.stringify(FILTERED_AUDIT)},"variables":{"p":${JSON.stringify(world.projectId)},"f":{"actions":${nestedList(levels - 1)}}}}`, "application/json", credentialHeaders(world.admin.credential));
    const accepted = await errorsOf(await send(64));
    // 64 levels pass the door; graphql-js then refuses the nested list as not a String.
    expect(accepted[0]?.message ?? "").not.toMatch(/nest/i);
    const refused = await errorsOf(await send(65));
    expect(refused[0]!.message).toMatch(/nest/i);
  });

  it("are refused for that operation alone over WebSocket, which stays open", async () => {
    const ws = await rawWs(world.admin.credential);
    try {
      ws.send(`{"id":"deep","type":"subscribe","payload":{"query":${JSON.stringify(FILTERED_AUDIT)},"variables":{"p":${JSON.stringify(world.projectId)},"f":{"actions":${nested}}}}}`);
      const refused = await ws.next("deep");
      expect(refused.type).toBe("error");
      expect(refused.payload[0].extensions.code).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(refused.payload)).not.toMatch(/call stack/i);
      ws.send(JSON.stringify({ id: "after", type: "subscribe", payload: { query: "{ __typename }" } }));
      expect((await ws.next("after")).payload).toEqual({ data: { __typename: "Query" } });
      expect(ws.closeCode).toBeNull();
    } finally {
      ws.close();
    }
  });
});

describe("malformed credentials", () => {
  const basic = (bytes: Buffer | string) => ({ kind: "raw", headers: { authorization: `Basic ${Buffer.from(bytes).toString("base64")}` } }) as Credential;
  const malformed: Array<[string, Credential]> = [
    ["a project id with a NUL", basic("x\u0000:y")],
    ["a secret with a NUL", basic(`${"project_x"}:\u0000`)],
    ["a project id with a control character", basic("x\u0007y:z")],
    ["invalid UTF-8 after decoding", basic(Buffer.from([0x78, 0xff, 0xfe, 0x3a, 0x79]))],
    ["a lone surrogate (CESU-8 bytes)", basic(Buffer.from([0x78, 0xed, 0xa0, 0x80, 0x3a, 0x79]))],
    // Buffer.from would skip the "!"s and decode "x:y".
    ["not base64", { kind: "raw", headers: { authorization: "Basic eDp5!!" } }],
    ["a Bearer key with a control character", { kind: "raw", headers: { authorization: "Bearer mq_key_a\tb" } }],
    ["a Bearer key with non-ASCII", { kind: "raw", headers: { authorization: `Bearer mq_key_${String.fromCharCode(0xe9)}` } }],
    ["a public token with non-ASCII", { kind: "raw", headers: { "x-public-token": `mq_public_${String.fromCharCode(0xff)}` } }],
  ];

  it.each(malformed)("answers %s with UNAUTHENTICATED, before any statement on projects or keys runs", async (_label, credential) => {
    statements.length = 0;
    const result = await gql(t.url, credential, SESSIONS, { projectId: world.projectId });
    expect(result.status).toBeLessThan(500);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(statements.filter((sql) => /projects|member_api_keys/.test(sql))).toEqual([]);
  });

  it("answers malformed credentials in WebSocket connectionParams with UNAUTHENTICATED, before any statement runs", async () => {
    for (const authorization of [`Basic ${Buffer.from("x\u0000:y").toString("base64")}`, "Bearer mq_key_\u0000", "Bearer mq_key_\ud800"]) {
      statements.length = 0;
      const socket = new WebSocket(t.wsUrl, "graphql-transport-ws");
      const messages: any[] = [];
      const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
      socket.on("message", (data) => {
        const message = JSON.parse(String(data));
        messages.push(message);
        if (message.type === "connection_ack") socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: print(SESSIONS), variables: { projectId: world.projectId } } }));
        if (message.id === "1") socket.close();
      });
      await within(new Promise<void>((resolve) => socket.once("open", () => resolve())), 5_000, "the socket opens");
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization } }));
      await within(closed, 10_000, "the socket closes");
      const answer = messages.find((m) => m.id === "1");
      expect(answer, JSON.stringify(messages)).toBeDefined();
      const errors = answer.type === "error" ? answer.payload : answer.payload.errors;
      expect(errors[0].extensions.code).toBe("UNAUTHENTICATED");
      expect(statements.filter((sql) => /projects|member_api_keys/.test(sql))).toEqual([]);
    }
  });
});

describe("more than 50 bad values in one variable", () => {
  const actions = Array.from({ length: 51 }, (_, i) => i);

  it("are all BAD_USER_INPUT over HTTP (graphql-js's 'Too many errors' included)", async () => {
    const result = await gql(t.url, world.admin.credential, FILTERED_AUDIT, { p: world.projectId, f: { actions } });
    expect(result.status).toBeLessThan(500);
    expect(result.errors!.length).toBeGreaterThan(50);
    expect(result.errors!.map((error) => error.extensions?.code)).toEqual(result.errors!.map(() => "BAD_USER_INPUT"));
  });

  it("are all BAD_USER_INPUT over WebSocket", async () => {
    const ws = await rawWs(world.admin.credential);
    try {
      ws.send(JSON.stringify({ id: "many", type: "subscribe", payload: { query: FILTERED_AUDIT, variables: { p: world.projectId, f: { actions } } } }));
      const answer = await ws.next("many");
      const errors = (answer.type === "error" ? answer.payload : answer.payload.errors) as GraphQLErrorShape[];
      expect(errors.length).toBeGreaterThan(50);
      expect(errors.map((error) => error.extensions?.code)).toEqual(errors.map(() => "BAD_USER_INPUT"));
    } finally {
      ws.close();
    }
  });
});

describe("error messages never repeat what was sent", () => {
  const plainSecret = randomBytes(30).toString("base64url").slice(0, 40);

  it("createWebhookEndpoint names no unknown event type it was given", async () => {
    const { sessionToken } = await openSession(t, world);
    const mutation = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`;
    for (const value of [sessionToken, plainSecret]) {
      const result = await gql(t.url, world.admin.credential, mutation, { input: { projectId: world.projectId, url: "https://hooks.example.com/in", eventTypes: [value] } });
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(result.errors![0]!.message).toMatch(/event type/i);
      expect(JSON.stringify(result.errors)).not.toContain(value);
    }
  });

  it("a webhook URL refused as private names no host", async () => {
    const app = await startTestApp({ env: { NODE_ENV: "production" }, databaseUrl: t.databaseUrl });
    try {
      const mutation = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`;
      const host = `${plainSecret.toLowerCase().replace(/[^a-z0-9]/g, "a")}.localhost`;
      const result = await gql(app.url, world.admin.credential, mutation, { input: { projectId: world.projectId, url: `https://${host}/in`, eventTypes: ["direct.user.impersonate"] } });
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(result.errors)).not.toContain(host);
    } finally {
      await app.close();
    }
  });

  const coercions = (secret: string): Array<[string, string | DocumentNode, Record<string, unknown>]> => [
    ["an Int given a string", SESSIONS, { projectId: world.projectId, first: secret }],
    ["a String given an object", SESSIONS, { projectId: world.projectId, userId: { token: secret } }],
    ["a list item of the wrong type", FILTERED_AUDIT, { p: world.projectId, f: { actions: [{ secret }] } }],
    ["an unknown input field", CREATE_TOKEN, { input: { projectId: world.projectId, userId: world.userId, reason: "r", [secret]: 1 } }],
    ["an instant", FILTERED_AUDIT, { p: world.projectId, f: { since: secret } }],
    ["an enum", FILTERED_AUDIT, { p: world.projectId, f: { status: secret } }],
    ["an object given a string", CREATE_TOKEN, { input: secret }],
  ];

  it("variable-coercion errors name the variable and the problem, never the value (a session JWT, a plain secret)", async () => {
    const { sessionJwt } = await openSession(t, world);
    for (const secret of [sessionJwt, plainSecret]) {
      for (const [label, query, variables] of coercions(secret)) {
        const result = await gql(t.url, world.admin.credential, query, variables);
        expect(result.status, label).toBeLessThan(500);
        expect(result.errors?.[0]?.extensions?.code, label).toBe("BAD_USER_INPUT");
        expect(result.errors![0]!.message, label).toMatch(/^Variable "\$\w+"/);
        expect(JSON.stringify(result.errors), label).not.toContain(secret);
      }
    }
    // Untyped on purpose: the variable is of the wrong type.
    const int = await gql(t.url, world.admin.credential, SESSIONS as DocumentNode, { projectId: world.projectId, first: plainSecret });
    expect(int.errors![0]!.message).toBe('Variable "$first" got an invalid value; Int cannot represent non-integer value.');
    const nested = await gql(t.url, world.admin.credential, FILTERED_AUDIT, { p: world.projectId, f: { actions: ["ok", 7] } });
    expect(nested.errors![0]!.message).toBe('Variable "$f" got an invalid value at "f.actions[1]"; String cannot represent a non string value.');
  });

  it("variable-coercion errors repeat no value over WebSocket either", async () => {
    const { sessionJwt } = await openSession(t, world);
    const ws = await rawWs(world.admin.credential);
    try {
      let n = 0;
      for (const secret of [sessionJwt, plainSecret]) {
        for (const [label, query, variables] of coercions(secret)) {
          const id = `c${++n}`;
          ws.send(JSON.stringify({ id, type: "subscribe", payload: { query: typeof query === "string" ? query : print(query), variables } }));
          const answer = await ws.next(id);
          const errors = (answer.type === "error" ? answer.payload : answer.payload.errors) as GraphQLErrorShape[];
          expect(errors[0]!.extensions?.code, label).toBe("BAD_USER_INPUT");
          expect(JSON.stringify(errors), label).not.toContain(secret);
        }
      }
    } finally {
      ws.close();
    }
  });
});

describe("caching", () => {
  it("every /graphql response says cache-control: no-store, errors and refusals included", async () => {
    const responses = [
      await post(JSON.stringify({ query: "{ __typename }" })),
      await post(JSON.stringify({ query: "{ nope }" })),
      await post("{ not json"),
      await post(JSON.stringify({ query: "{ __typename }", variables: { x: "x".repeat(1_100_000) } })),
      await fetch(`${t.url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { "apollo-require-preflight": "1" } }),
    ];
    for (const response of responses) expect(response.headers.get("cache-control"), String(response.status)).toBe("no-store");
    const raw = await rawHttp(`GET //:99999 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(raw.headers["cache-control"]).toBe("no-store");
  });
});

describe("persisted-query extensions and subscriptions over HTTP", () => {
  const query = "{ __typename }";
  const cases: Array<[string, () => Promise<Response>]> = [
    ["a GET with persistedQuery 1 and a query", () => fetch(`${t.url}?query=${encodeURIComponent(query)}&extensions=${encodeURIComponent('{"persistedQuery":1}')}`, { headers: { "apollo-require-preflight": "1" } })],
    ["a GET with persistedQuery 1 and no query", () => fetch(`${t.url}?extensions=${encodeURIComponent('{"persistedQuery":1}')}`, { headers: { "apollo-require-preflight": "1" } })],
    ["a POST with a bad hash and a query", () => post(JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: "bad" } } }))],
    ["a POST with a bad hash and no query", () => post(JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: "bad" } } }))],
    ["a POST with persistedQuery a string", () => post(JSON.stringify({ query, extensions: { persistedQuery: "x" } }))],
    ["a POST with extensions a number", () => post(JSON.stringify({ query, extensions: 5 }))],
  ];

  it.each(cases)("answers %s with a 4xx-class error and a contract code", async (_label, send) => {
    const response = await send();
    expect(response.status).toBeLessThan(500);
    const errors = await errorsOf(response);
    expect(errors.length).toBeGreaterThan(0);
    expect(["BAD_REQUEST", "PERSISTED_QUERY_NOT_SUPPORTED", "BAD_USER_INPUT"]).toContain(errors[0]!.extensions?.code);
  });

  it("treats a null persistedQuery as none", async () => {
    const response = await post(JSON.stringify({ query, extensions: { persistedQuery: null } }));
    expect(await response.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("answers a subscription sent over HTTP with BAD_REQUEST, not INTERNAL_SERVER_ERROR", async () => {
    const subscription = `subscription($p: ID!) { auditEventAdded(projectId: $p) { id } }`;
    const result = await gql(t.url, world.admin.credential, subscription, { p: world.projectId });
    expect(result.status).toBeLessThan(500);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
    expect(result.errors![0]!.message).toMatch(/WebSocket/i);
  });
});

describe("bodies and URLs that are not valid UTF-8", () => {
  const reasonBytes = (invalid: number[]) =>
    Buffer.concat([
      Buffer.from(`{"query":${JSON.stringify(print(CREATE_TOKEN))},"variables":{"input":{"projectId":${JSON.stringify(world.projectId)},"userId":${JSON.stringify(world.userId)},"reason":"ticket `),
      Buffer.from(invalid),
      Buffer.from(`"}}}`),
    ]);

  it.each([
    ["a stray continuation byte", [0x80]],
    ["a truncated sequence", [0xe2, 0x82]],
    ["an overlong encoding", [0xc0, 0xaf]],
    ["an encoded surrogate", [0xed, 0xa0, 0x80]],
  ])("refuses a body with %s as 400 BAD_USER_INPUT, storing nothing", async (_label, invalid) => {
    const before = statements.filter((sql) => /insert into .?impersonation_tokens/i.test(sql)).length;
    const response = await post(reasonBytes(invalid), "application/json", credentialHeaders(world.supportManager.credential));
    expect(response.status).toBe(400);
    const errors = await errorsOf(response);
    expect(errors[0]!.extensions?.code).toBe("BAD_USER_INPUT");
    expect(errors[0]!.message).toMatch(/UTF-8/);
    expect(statements.filter((sql) => /insert into .?impersonation_tokens/i.test(sql)).length).toBe(before);
  });

  it("refuses a GET whose query string percent-decodes to invalid UTF-8", async () => {
    const response = await fetch(`${t.url}?query=${encodeURIComponent("{ __typename }")}&operationName=%FF%FE`, { headers: { "apollo-require-preflight": "1" } });
    expect(response.status).toBe(400);
    expect((await errorsOf(response))[0]!.message).toMatch(/UTF-8/);
  });

  it("still accepts a literal % in a GET's query string and valid multi-byte text", async () => {
    const response = await fetch(`${t.url}?query=${encodeURIComponent('{ __typename } # 100% ünïcødé 🔍')}`, { headers: { "apollo-require-preflight": "1" } });
    expect(await response.json()).toEqual({ data: { __typename: "Query" } });
  });
});

describe("odd requests (a small fuzz)", () => {
  const bodies: Array<[string, string, string]> = [
    ["an empty JSON body", "", "application/json"],
    ["a JSON array", "[]", "application/json"],
    ["a batch of one", JSON.stringify([{ query: "{ __typename }" }]), "application/json"],
    ["a JSON number", "42", "application/json"],
    ["a JSON string", '"{ __typename }"', "application/json"],
    ["JSON null", "null", "application/json"],
    ["an operationName that is a number", JSON.stringify({ query: "{ __typename }", operationName: 5 }), "application/json"],
    ["an operationName that is an object", JSON.stringify({ query: "{ __typename }", operationName: { a: 1 } }), "application/json"],
    ["variables that are a string", JSON.stringify({ query: "{ __typename }", variables: "{}" }), "application/json"],
    ["variables that are an array", JSON.stringify({ query: "{ __typename }", variables: [1] }), "application/json"],
    ["a query that is an object", JSON.stringify({ query: { a: 1 } }), "application/json"],
    ["a text/plain body", JSON.stringify({ query: "{ __typename }" }), "text/plain"],
    ["a form body", "query=%7B__typename%7D", "application/x-www-form-urlencoded"],
    ["an odd JSON content type", JSON.stringify({ query: "{ __typename }" }), "application/jsonx; charset=latin1"],
    ["a multipart body", "--x\r\n\r\n--x--", "multipart/form-data; boundary=x"],
    ["an unknown operationName", JSON.stringify({ query: "{ __typename }", operationName: "Nope" }), "application/json"],
    ["two anonymous operations", JSON.stringify({ query: "{ __typename } { __typename }" }), "application/json"],
    ["variables with a __proto__ key", `{"query":"query($p: ID!) { impersonationPolicy(projectId: $p) { projectId } }","variables":{"__proto__":{"p":"x"}}}`, "application/json"],
    ["a variable that is a __proto__ object", `{"query":"query($p: ID!) { impersonationPolicy(projectId: $p) { projectId } }","variables":{"p":{"__proto__":null,"constructor":1}}}`, "application/json"],
    ["an Int variable past 2^53", `{"query":"query($p: ID!, $n: Int) { sessions(projectId: $p, first: $n) { edges { cursor } } }","variables":{"p":"x","n":1e400}}`, "application/json"],
    ["a body with a UTF-8 BOM", `\ufeff${JSON.stringify({ query: "{ __typename }" })}`, "application/json"],
  ];

  it.each(bodies)("answers %s without a 5xx", async (_label, body, contentType) => {
    const response = await post(body, contentType);
    expect(response.status).toBeLessThan(500);
    expect(await response.text()).not.toMatch(/INTERNAL_SERVER_ERROR/);
  });

  it.each(["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "QUERY"])("answers the method %s without a 5xx", async (method) => {
    const response = await rawHttp(`${method} /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
    expect(response.status).toBeLessThan(500);
    expect(response.body).not.toMatch(/INTERNAL_SERVER_ERROR/);
  });

  it("answers huge and odd headers without a 5xx", async () => {
    const huge = await rawHttp(`GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20_000)}\r\nConnection: close\r\n\r\n`);
    expect(huge.status).toBeLessThan(500);
    const many = await rawHttp(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join("\r\n")}\r\nContent-Type: application/json\r\nContent-Length: 26\r\nConnection: close\r\n\r\n{"query":"{ __typename }"}`);
    expect(many.status).toBeLessThan(500);
    const repeated = await rawHttp(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\nX-Public-Token: a\r\nX-Public-Token: b\r\nContent-Length: 26\r\nConnection: close\r\n\r\n{"query":"{ __typename }"}`);
    expect(repeated.status).toBeLessThan(500);
    await expectHealthy();
  });

  it("answers an anonymous request with no credential at all as before", async () => {
    const result = await gql(t.url, anonymous, "{ __typename }");
    expect(result.data).toEqual({ __typename: "Query" });
  });
});

describe("a query nested 20,000 levels deep", () => {
  const deep = `{ ${"a { ".repeat(20_000)}b${" }".repeat(20_000)} }`;

  it("is refused at the parser's token limit as GRAPHQL_VALIDATION_FAILED over HTTP, with no internal message", async () => {
    const response = await post(JSON.stringify({ query: deep }));
    expect(response.status).toBe(400);
    const errors = await errorsOf(response);
    expect(errors[0]!.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(errors)).not.toMatch(/call stack|Syntax Error/i);
  });

  it("is GRAPHQL_VALIDATION_FAILED for that operation alone over WebSocket, which stays open", async () => {
    const ws = await rawWs(anonymous);
    try {
      ws.send(JSON.stringify({ id: "deep", type: "subscribe", payload: { query: deep } }));
      const refused = await ws.next("deep");
      expect(refused.type).toBe("error");
      expect(refused.payload[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(JSON.stringify(refused.payload)).not.toMatch(/call stack|Syntax Error/i);
      ws.send(JSON.stringify({ id: "after", type: "subscribe", payload: { query: "{ __typename }" } }));
      expect((await ws.next("after")).payload).toEqual({ data: { __typename: "Query" } });
    } finally {
      ws.close();
    }
  });
});
