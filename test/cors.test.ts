import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { print } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import {
  CreateProjectDocument,
  ExchangeTokenDocument,
  ImpersonationAllowedDocument,
  SetImpersonationPolicyDocument,
  TypenameDocument,
} from "./__generated__/graphql.js";
import { anonymous, connectionParams, credentialHeaders, gqlOk, type Credential } from "./harness/client.js";
import { createWorld, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

/** SPEC §7, browsers: CORS for the projects' redirect-URL origins and CORS_ORIGINS, the public token only. */

/** What a browser does with the public token; a made-up token proves the credential itself was accepted. */
const exchange = ExchangeTokenDocument;
const guessed = { token: "mq_imp_not_a_real_token" };
const corsHeaderNames = [
  "access-control-allow-origin",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-max-age",
  "access-control-allow-credentials",
];

function preflight(t: TestApp, origin: string, requestHeaders = "content-type, x-public-token") {
  return fetch(t.url, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders },
  });
}

function post<TVariables>(t: TestApp, credential: Credential, query: TypedDocumentNode<unknown, TVariables>, variables: TVariables, headers: Record<string, string> = {}) {
  return fetch(t.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...credentialHeaders(credential), ...headers },
    body: JSON.stringify({ query: print(query), variables }),
  });
}

function corsHeaders(response: Response): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of corsHeaderNames) {
    const value = response.headers.get(name);
    if (value !== null) found[name] = value;
  }
  return found;
}

/** Runs one operation over graphql-ws from a socket whose upgrade carries `origin`, as a browser's does. */
async function wsOperation<TVariables extends Record<string, unknown>>(
  t: TestApp,
  credential: Credential,
  query: TypedDocumentNode<unknown, TVariables>,
  variables: TVariables,
  origin?: string,
) {
  class BrowserLikeWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, origin ? { origin } : {});
    }
  }
  const client = createClient({ url: t.wsUrl, webSocketImpl: BrowserLikeWebSocket, connectionParams: connectionParams(credential), retryAttempts: 0, lazy: true });
  try {
    const results = [];
    for await (const result of client.iterate({ query: print(query), variables })) results.push(result);
    return results[0]!;
  } catch (error) {
    if (Array.isArray(error)) return { data: undefined, errors: error as Array<{ message: string; extensions?: { code?: string } }> };
    if (typeof (error as { code?: unknown }).code === "number") return { closed: (error as { code: number }).code };
    throw error;
  } finally {
    await client.dispose();
  }
}

describe("CORS on /graphql", () => {
  const { t, world } = useTestWorld({ app: { env: { CORS_ORIGINS: "https://support.example.net/, http://localhost:5173" } } });
  let shop: { projectId: string; publicToken: string };
  const shopOrigin = "https://shop.example.com";

  beforeAll(async () => {
    const created = await gqlOk(t.url, world.admin.credential, CreateProjectDocument, {
      input: { name: "Shop", loginRedirectUrl: `${shopOrigin}/masquerade/authenticate?from=staff` },
    });
    shop = { projectId: created.createProject.project.id, publicToken: created.createProject.publicToken };
    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: shop.projectId, input: { allowImpersonation: true, allowFrontendAuthentication: true } });
  });

  it("answers a preflight from a project's redirect-URL origin: the public token and JSON only, no credentials", async () => {
    const response = await preflight(t, shopOrigin);
    expect(response.status).toBe(204);
    expect(corsHeaders(response)).toEqual({
      "access-control-allow-origin": shopOrigin,
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": "content-type, x-public-token",
      "access-control-max-age": "600",
    });
    expect(response.headers.get("vary")).toMatch(/origin/i);
  });

  it("allows the request that follows, and the browser can read its answer", async () => {
    const response = await post(t, { kind: "frontend", publicToken: shop.publicToken }, exchange, guessed, { origin: shopOrigin });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe("IMPERSONATION_TOKEN_NOT_FOUND");
    expect(corsHeaders(response)).toEqual({ "access-control-allow-origin": shopOrigin });
    expect(response.headers.get("vary")).toMatch(/origin/i);
  });

  it("gives another origin no CORS headers at all, on the preflight and on the request", async () => {
    for (const origin of ["https://evil.example.org", "https://shop.example.com.evil.org", "http://shop.example.com", "null"]) {
      const answer = await preflight(t, origin);
      expect(answer.status).toBe(204);
      expect(corsHeaders(answer), origin).toEqual({});
      const request = await post(t, anonymous, TypenameDocument, {}, { origin });
      expect(corsHeaders(request), origin).toEqual({});
    }
  });

  it("allows the origins listed in CORS_ORIGINS (one written with a trailing slash, as copied from an address bar)", async () => {
    for (const origin of ["https://support.example.net", "http://localhost:5173"]) {
      const response = await preflight(t, origin);
      expect(corsHeaders(response)["access-control-allow-origin"], origin).toBe(origin);
    }
    expect(corsHeaders(await preflight(t, "http://localhost:5174"))).toEqual({});
  });

  it("never sends Access-Control-Allow-Credentials, whatever is asked", async () => {
    const responses = [
      await preflight(t, shopOrigin, "authorization, content-type, cookie"),
      await post(t, world.frontend, ImpersonationAllowedDocument, { projectId: world.projectId }, { origin: shopOrigin, cookie: "a=b" }),
      await post(t, world.backend, ImpersonationAllowedDocument, { projectId: world.projectId }, { origin: shopOrigin }),
    ];
    for (const response of responses) expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    // Asked for authorization, the preflight still lists only what a browser may send.
    expect(responses[0]!.headers.get("access-control-allow-headers")).toBe("content-type, x-public-token");
  });

  it("refuses a member key or the project secret from another origin as UNAUTHENTICATED, and lets the public token through", async () => {
    for (const origin of [shopOrigin, "https://evil.example.org", "null"]) {
      for (const credential of [world.admin.credential, world.backend]) {
        const response = await post(t, credential, ImpersonationAllowedDocument, { projectId: world.projectId }, { origin });
        expect(response.status).toBe(401);
        const body = (await response.json()) as { data?: unknown; errors: Array<{ message: string; extensions: { code: string } }> };
        expect(body.data).toBeUndefined();
        expect(body.errors[0]!.extensions.code).toBe("UNAUTHENTICATED");
        expect(body.errors[0]!.message).toMatch(/public token/);
      }
    }
    const publicToken = await post(t, { kind: "frontend", publicToken: shop.publicToken }, exchange, guessed, { origin: "https://evil.example.org" });
    expect(((await publicToken.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe("IMPERSONATION_TOKEN_NOT_FOUND");
  });

  it("still accepts every credential without an Origin (servers) and from the server's own origin (its own pages)", async () => {
    for (const headers of [{}, { origin: t.baseUrl }] as Array<Record<string, string>>) {
      for (const credential of [world.admin.credential, world.backend]) {
        const response = await post(t, credential, ImpersonationAllowedDocument, { projectId: world.projectId }, headers);
        expect(await response.json()).toEqual({ data: { impersonationPolicy: { allowImpersonation: true } } });
      }
    }
  });

  it("refuses authorization in connectionParams on a WebSocket opened from another origin, and lets the public token through", async () => {
    const refused = await wsOperation(t, world.admin.credential, ImpersonationAllowedDocument, { projectId: world.projectId }, shopOrigin);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(refused.errors?.[0]?.message).toMatch(/public token/);
    const backend = await wsOperation(t, world.backend, ImpersonationAllowedDocument, { projectId: world.projectId }, "http://localhost:5173");
    expect(backend.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const publicToken = await wsOperation(t, { kind: "frontend", publicToken: shop.publicToken }, exchange, guessed, shopOrigin);
    expect(publicToken.errors?.[0]?.extensions?.code).toBe("IMPERSONATION_TOKEN_NOT_FOUND");
    const sameOrigin = await wsOperation(t, world.admin.credential, ImpersonationAllowedDocument, { projectId: world.projectId }, t.baseUrl);
    expect(sameOrigin).toEqual({ data: { impersonationPolicy: { allowImpersonation: true } } });
    const server = await wsOperation(t, world.admin.credential, ImpersonationAllowedDocument, { projectId: world.projectId });
    expect(server).toEqual({ data: { impersonationPolicy: { allowImpersonation: true } } });
  });

  it("closes a WebSocket opened by a page of an origin CORS does not allow (browsers apply no CORS to WebSockets)", async () => {
    for (const origin of ["https://evil.example.org", "null"]) {
      const refused = await wsOperation(t, { kind: "frontend", publicToken: shop.publicToken }, exchange, guessed, origin);
      expect(refused, origin).toEqual({ closed: 4403 });
    }
  });

  it("allows a newly created project's origin at once", async () => {
    const origin = "https://new-app.example.com";
    expect(corsHeaders(await preflight(t, origin))).toEqual({});
    await gqlOk(t.url, world.admin.credential, CreateProjectDocument, { input: { name: "New", loginRedirectUrl: `${origin}/auth` } });
    expect(corsHeaders(await preflight(t, origin))["access-control-allow-origin"]).toBe(origin);
  });
});

describe("allowed origins across instances", () => {
  let first: TestApp;
  let second: TestApp;
  let world: World;

  beforeAll(async () => {
    first = await startTestApp();
    // A second instance on the same database and the same (fake) time.
    second = await startTestApp({ databaseUrl: first.databaseUrl, clock: first.clock });
    world = await createWorld(first);
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it("allows a project created on another instance within the reload interval (5 s), and no sooner than a miss asks", async () => {
    const origin = "https://created-elsewhere.example.com";
    // A miss reloads the set (the bootstrap's project, written straight to the database, is found).
    first.clock.advanceSeconds(5);
    expect(corsHeaders(await preflight(second, "https://app.example.com"))["access-control-allow-origin"]).toBe("https://app.example.com");

    await gqlOk(first.url, world.admin.credential, CreateProjectDocument, { input: { name: "Elsewhere", loginRedirectUrl: `${origin}/auth` } });
    expect(corsHeaders(await preflight(first, origin))["access-control-allow-origin"]).toBe(origin);
    // The other instance asked the database moments ago: unknown origins are not looked up again yet.
    expect(corsHeaders(await preflight(second, origin))).toEqual({});
    first.clock.advanceSeconds(5);
    expect(corsHeaders(await preflight(second, origin))["access-control-allow-origin"]).toBe(origin);
  });
});

describe("CORS_ORIGINS", () => {
  it("refuses anything but http(s) origins, naming the variable and what is wrong with which entry", () => {
    const refusals: Array<[string, RegExp]> = [
      ["https://app.example.com/path", /entry 1 has a path$/],
      ["https://app.example.com//", /entry 1 has a path$/],
      ["https://app.example.com/?x=1", /entry 1 has a query or fragment$/],
      ["https://app.example.com/?", /entry 1 has a query or fragment$/],
      ["https://app.example.com#top", /entry 1 has a query or fragment$/],
      ["https://user@app.example.com", /entry 1 has credentials$/],
      ["https://user:pw@app.example.com/", /entry 1 has credentials$/],
      ["app.example.com", /entry 1 is not a URL$/],
      ["*", /entry 1 is not a URL$/],
      ["https://app.example.com,null", /entry 2 is not a URL$/],
      ["ftp://files.example.com", /entry 1 is not http or https$/],
      ["https://App.Example.com", /entry 1 is not written as a browser sends it/],
      ["https://app.example.com:443/", /entry 1 is not written as a browser sends it/],
    ];
    for (const [value, what] of refusals) {
      expect(() => loadConfig({ CORS_ORIGINS: value }), value).toThrow(/^CORS_ORIGINS must be a comma-separated list of origins/);
      expect(() => loadConfig({ CORS_ORIGINS: value }), value).toThrow(what);
    }
  });

  it("reads an origin written with a lone trailing slash as that origin", () => {
    expect(loadConfig({ CORS_ORIGINS: " https://a.example.com ,http://127.0.0.1:8080" }).corsOrigins).toEqual(["https://a.example.com", "http://127.0.0.1:8080"]);
    expect(loadConfig({ CORS_ORIGINS: "https://a.example.com/,http://localhost:5173/, https://a.example.com" }).corsOrigins).toEqual(["https://a.example.com", "http://localhost:5173"]);
    expect(loadConfig({ CORS_ORIGINS: "http://[::1]:8080/" }).corsOrigins).toEqual(["http://[::1]:8080"]);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });
});
