import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildSchema, getIntrospectionQuery, Kind, parse, print, specifiedRules, validate, type DocumentNode } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as consoleGenerated from "../console/src/generated/graphql.js";
import * as generated from "./__generated__/graphql.js";
import { anonymous, gql, type Credential, type GraphQLErrorShape, type GraphQLResponse } from "./harness/client.js";
import { countRows } from "./harness/core-operations.js";
import { useTestWorld } from "./harness/test-world.js";
import { connectWs, within, type WsConnection } from "./harness/ws-client.js";
import { limitedParseOptions, queryLimits } from "../src/graphql/query-limits.js";
import { extraValidationRules } from "../src/graphql/validate-operation.js";

/** What a document past the parser's token limit is refused with, on either transport. */
const tooManyTokens = `The operation contains more than ${queryLimits.maxTokens} tokens.`;

/** Generous: a refusal takes milliseconds; the attacks below took seconds (or killed the process) before. */
const quickMs = 1_000;

const { t, world } = useTestWorld();

// ---- the documents of the attacks ----

const eventFields = "id projectId action eventType status errorCode requestId userId impersonatorId impersonatorEmail reason sessionId ipAddress userAgent details createdAt user { id projectId email name } impersonator { id email name role disabled }";

/** `count` aliases of auditEvents(first: `first`) with the nested user and impersonator. */
function auditAliases(count: number, first: number | "$n"): string {
  const variables = first === "$n" ? "$p: ID!, $n: Int" : "$p: ID!";
  const aliases = Array.from({ length: count }, (_, i) => `a${i}: auditEvents(projectId: $p, first: ${first}) { edges { node { ...E } } }`);
  return `query(${variables}) { ${aliases.join(" ")} } fragment E on AuditEvent { ${eventFields} }`;
}

/** The 877-byte request: `length` fragments, each spreading the next one twice. */
function doublingFragmentChain(length: number): string {
  const fragments = Array.from({ length }, (_, i) =>
    i === length - 1 ? `fragment F${i} on Query { __typename }` : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
  );
  return `query { ...F0 } ${fragments.join(" ")}`;
}

/** `length` fragments, each spreading the next one once. */
function fragmentChain(length: number): string {
  const fragments = Array.from({ length }, (_, i) => (i === length - 1 ? `fragment F${i} on Query { __typename }` : `fragment F${i} on Query { ...F${i + 1} }`));
  return `query { ...F0 } ${fragments.join(" ")}`;
}

/** Selections nested `levels` deep (the WebSocket message: 10,000 nested braces). */
const nestedBraces = (levels: number) => `query { ${"a { ".repeat(levels)}b${" }".repeat(levels)} }`;

/**
 * A valid query `3 + ofTypes + 1` levels deep. The schema's own types nest 5 levels at most: only
 * introspection's `ofType` nests further (`__type` counts under the ordinary limit; only a root
 * `__schema` gets the introspection limit).
 */
function deepQuery(ofTypes: number): string {
  return `query { __type(name: "AuditEvent") { fields { type { ${"ofType { ".repeat(ofTypes)}name${" }".repeat(ofTypes)} } } } }`;
}

/** 21 aliases nested inside one field (no root field repeated). */
const manyAliases = `query($p: ID!) { auditEvents(projectId: $p, first: 1) { edges { node { ${Array.from({ length: 21 }, (_, i) => `x${i}: id`).join(" ")} } } } }`;

// ---- helpers ----

interface Timed<T> {
  value: T;
  ms: number;
}

async function timed<T>(promise: Promise<T>, started = performance.now()): Promise<Timed<T>> {
  const value = await promise;
  return { value, ms: performance.now() - started };
}

/**
 * Sends `query` over HTTP and, while it is in flight, asks `/healthz`: the refusal and the health
 * answer must both come quickly (a validation that blocks the event loop delays both).
 */
async function refusedOverHttp(credential: Credential, query: string, variables: Record<string, unknown>, code: string): Promise<GraphQLResponse<unknown>> {
  const started = performance.now();
  const attack = timed(gql(t.url, credential, query, variables), started);
  const health = timed(fetch(`${t.baseUrl}/healthz`).then((response) => response.status), started);
  const [refused, healthz] = await Promise.all([attack, health]);
  expect(refused.value.data ?? null, JSON.stringify(refused.value.data)?.slice(0, 200)).toBeNull();
  expect(refused.value.errors?.[0]?.extensions?.code, JSON.stringify(refused.value.errors)).toBe(code);
  expect(refused.value.status).toBe(400);
  expectPlainMessages(refused.value.errors!);
  expect(refused.ms).toBeLessThan(quickMs);
  expect(healthz.value).toBe(200);
  expect(healthz.ms).toBeLessThan(quickMs);
  return refused.value;
}

function expectPlainMessages(errors: GraphQLErrorShape[]): void {
  for (const error of errors) {
    expect(error.message).not.toMatch(/Did you mean|call stack|Syntax Error|RangeError/i);
  }
}

type WsOutcome =
  | { kind: "results"; results: Array<{ data?: unknown; errors?: GraphQLErrorShape[] }> }
  | { kind: "error"; errors: GraphQLErrorShape[] }
  | { kind: "closed"; code?: number; reason?: string };

/** Sends a raw document over graphql-ws (the typed helper would have to parse it here first). */
function operationOverWs(ws: WsConnection, query: string, variables: Record<string, unknown> = {}): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const results: Array<{ data?: unknown; errors?: GraphQLErrorShape[] }> = [];
    ws.client.subscribe(
      { query, variables },
      {
        next: (value) => void results.push(value as { data?: unknown; errors?: GraphQLErrorShape[] }),
        error: (error: unknown) => {
          if (Array.isArray(error)) resolve({ kind: "error", errors: error as GraphQLErrorShape[] });
          else {
            const event = error as { code?: number; reason?: string };
            resolve({ kind: "closed", code: event.code, reason: event.reason });
          }
        },
        complete: () => resolve({ kind: "results", results }),
      },
    );
  });
}

async function refusedOverWs(ws: WsConnection, query: string, variables: Record<string, unknown>, code: string): Promise<GraphQLErrorShape[]> {
  const started = performance.now();
  const attack = timed(within(operationOverWs(ws, query, variables), 5_000, "the refusal"), started);
  const health = timed(fetch(`${t.baseUrl}/healthz`).then((response) => response.status), started);
  const [refused, healthz] = await Promise.all([attack, health]);
  expect(refused.value.kind, JSON.stringify(refused.value)).toBe("error");
  const errors = refused.value.kind === "error" ? refused.value.errors : [];
  expect(errors[0]?.extensions?.code, JSON.stringify(errors)).toBe(code);
  expectPlainMessages(errors);
  expect(refused.ms).toBeLessThan(quickMs);
  expect(healthz.value).toBe(200);
  expect(healthz.ms).toBeLessThan(quickMs);
  return errors;
}

/** The socket still serves: a later operation on it answers. */
async function expectSocketServes(ws: WsConnection): Promise<void> {
  const outcome = await within(operationOverWs(ws, "query { __typename }"), 5_000, "a later operation");
  expect(outcome).toEqual({ kind: "results", results: [{ data: { __typename: "Query" } }] });
}

// ---- the tests ----

describe("query limits over HTTP", () => {
  it("refuses 200 aliases of auditEvents(first: 500) with nested fields (a VIEWER's request that cost 1.5 GB) at parse time, as a validation failure", async () => {
    const result = await refusedOverHttp(world.viewer.credential, auditAliases(200, 500), { p: world.projectId }, "GRAPHQL_VALIDATION_FAILED");
    expect(result.errors![0]!.message).toBe(tooManyTokens);
  });

  it("refuses 1,000 and 2,000 aliases of auditEvents(first: 100)", async () => {
    for (const count of [1_000, 2_000]) {
      const result = await refusedOverHttp(world.viewer.credential, auditAliases(count, 100), { p: world.projectId }, "GRAPHQL_VALIDATION_FAILED");
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.message).toBe(tooManyTokens);
    }
  });

  it("keeps GRAPHQL_PARSE_FAILED for a malformed document, however short", async () => {
    for (const query of ["query { __typename", "query { a: }", "{ __typename } }"]) {
      const result = await gql(t.url, anonymous, query);
      expect(result.status, query).toBe(400);
      expect(result.errors?.[0]?.extensions?.code, query).toBe("GRAPHQL_PARSE_FAILED");
      expect(result.errors?.[0]?.message, query).toMatch(/^Syntax Error: /);
    }
  });

  it("refuses an operation whose estimated cost is over the limit, however few its tokens and aliases", async () => {
    // 4 pages of 500 events with every field: about 58,000, over 50,000; `first: $n` counts as 500.
    for (const [first, variables] of [
      [500, { p: world.projectId }],
      ["$n", { p: world.projectId, n: 500 }],
    ] as const) {
      const result = await refusedOverHttp(world.viewer.credential, auditAliases(4, first), variables, "GRAPHQL_VALIDATION_FAILED");
      expect(result.errors![0]!.message).toMatch(/too expensive/);
    }
  });

  it("refuses the 22-fragment doubling chain (an anonymous 877-byte request that froze the process for seconds)", async () => {
    const query = doublingFragmentChain(22);
    expect(query.length).toBeLessThan(900);
    const result = await refusedOverHttp(anonymous, query, {}, "GRAPHQL_VALIDATION_FAILED");
    expect(result.errors![0]!.message).toMatch(/too expensive/);
  });

  it("refuses 10,000 chained fragment spreads and 10,000 nested braces without a 5xx or an internal message", async () => {
    const chained = await refusedOverHttp(anonymous, fragmentChain(10_000), {}, "GRAPHQL_VALIDATION_FAILED");
    expect(chained.errors![0]!.message).toBe(tooManyTokens);
    const deep = await refusedOverHttp(anonymous, nestedBraces(10_000), {}, "GRAPHQL_VALIDATION_FAILED");
    expect(deep.errors![0]!.message).toBe(tooManyTokens);
  });

  it("refuses an operation nested deeper than 12 levels", async () => {
    // __type(1) fields(2) type(3) ofType × 9 (12) name(13)
    const result = await refusedOverHttp(anonymous, deepQuery(9), {}, "GRAPHQL_VALIDATION_FAILED");
    expect(result.errors![0]!.message).toBe("The operation is nested deeper than 12 levels.");
    const atTheLimit = await gql(t.url, anonymous, deepQuery(8));
    expect(atTheLimit.errors).toBeUndefined();
    // As deep as the token limit lets a document go (about 650 levels): refused as quickly.
    const deepest = deepQuery(650);
    expect(() => parse(deepest, limitedParseOptions)).not.toThrow();
    await refusedOverHttp(anonymous, deepest, {}, "GRAPHQL_VALIDATION_FAILED");
  });

  it("refuses more than 20 aliases, and more than 50 directives", async () => {
    const aliased = await refusedOverHttp(world.viewer.credential, manyAliases, { p: world.projectId }, "GRAPHQL_VALIDATION_FAILED");
    expect(aliased.errors![0]!.message).toBe("The operation uses more than 20 aliases.");

    const directives = Array.from({ length: 51 }, () => "__typename @include(if: true)").join(" ");
    const directed = await refusedOverHttp(anonymous, `query { ${directives} }`, {}, "GRAPHQL_VALIDATION_FAILED");
    expect(directed.errors![0]!.message).toBe("The operation uses more than 50 directives.");
  });

  it("refuses a root field repeated more than 10 times before any of them executes", async () => {
    const before = await countRows(t, "users");
    const inputs = Array.from({ length: 11 }, (_, i) => `u${i}: createUser(input: { projectId: $p, email: "repeat-${i}@example.com" }) { id }`);
    const result = await refusedOverHttp(world.backend, `mutation($p: ID!) { ${inputs.join(" ")} }`, { p: world.projectId }, "GRAPHQL_VALIDATION_FAILED");
    expect(result.errors![0]!.message).toBe('The operation selects the root field "createUser" more than 10 times.');
    expect(await countRows(t, "users")).toBe(before);
  });

  it("serves a legitimate heavy query: auditEvents(first: 100) with nested user and impersonator, and a page of 500", async () => {
    const heavy = await gql(t.url, world.viewer.credential, `query($p: ID!) { auditEvents(projectId: $p, first: 100) { edges { node { ${eventFields} } } pageInfo { hasNextPage endCursor } } }`, {
      p: world.projectId,
    });
    expect(heavy.errors).toBeUndefined();
    expect((heavy.data as { auditEvents: { edges: unknown[] } }).auditEvents.edges.length).toBeGreaterThan(0);
    const page = await gql(t.url, world.viewer.credential, generated.AuditEventsDocument, { projectId: world.projectId, first: 500 });
    expect(page.errors).toBeUndefined();
  });
});

describe("query limits over WebSocket", () => {
  let ws: WsConnection;
  beforeAll(() => {
    ws = connectWs(t.wsUrl, world.viewer.credential);
  });
  afterAll(async () => ws?.close());

  it("answers a 10,000-level query with an error for that operation alone: the socket stays open", async () => {
    const errors = await refusedOverWs(ws, nestedBraces(10_000), {}, "GRAPHQL_VALIDATION_FAILED");
    expect(errors[0]!.message).toBe(tooManyTokens);
    await expectSocketServes(ws);
  });

  it("keeps GRAPHQL_PARSE_FAILED for a malformed document, and the socket open", async () => {
    const outcome = await within(operationOverWs(ws, "query { __typename"), 5_000, "the refusal");
    expect(outcome.kind, JSON.stringify(outcome)).toBe("error");
    const errors = outcome.kind === "error" ? outcome.errors : [];
    expect(errors[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    expect(errors[0]?.message).toMatch(/^Syntax Error: /);
    await expectSocketServes(ws);
  });

  it("applies the same limits as HTTP", async () => {
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      [auditAliases(1_000, 100), { p: world.projectId }, "GRAPHQL_VALIDATION_FAILED", /more than 2000 tokens/],
      [auditAliases(2_000, 100), { p: world.projectId }, "GRAPHQL_VALIDATION_FAILED", /more than 2000 tokens/],
      [auditAliases(4, "$n"), { p: world.projectId, n: 500 }, "GRAPHQL_VALIDATION_FAILED", /too expensive/],
      [doublingFragmentChain(22), {}, "GRAPHQL_VALIDATION_FAILED", /too expensive/],
      [fragmentChain(10_000), {}, "GRAPHQL_VALIDATION_FAILED", /more than 2000 tokens/],
      [deepQuery(9), {}, "GRAPHQL_VALIDATION_FAILED", /nested deeper than 12/],
      [manyAliases, { p: world.projectId }, "GRAPHQL_VALIDATION_FAILED", /more than 20 aliases/],
      [`query { ${"__typename @include(if: true) ".repeat(51)}}`, {}, "GRAPHQL_VALIDATION_FAILED", /more than 50 directives/],
      [
        `query($p: ID!) { ${Array.from({ length: 11 }, (_, i) => `v${i}: verifyAuditLog(projectId: $p) { valid }`).join(" ")} }`,
        { p: world.projectId },
        "GRAPHQL_VALIDATION_FAILED",
        /"verifyAuditLog" more than 10 times/,
      ],
    ];
    for (const [query, variables, code, message] of cases) {
      const errors = await refusedOverWs(ws, query, variables, code);
      expect(errors.map((error) => error.message).join("\n")).toMatch(message);
    }
    await expectSocketServes(ws);
  });
});

describe("the limits fit every real client", () => {
  const root = resolve(import.meta.dirname, "..");
  const schema = buildSchema(readFileSync(join(root, "schema.graphql"), "utf8"));

  const documents: Array<[string, DocumentNode | string]> = [
    ...["test/operations", "console/operations"].flatMap((directory) =>
      readdirSync(join(root, directory)).map((name): [string, string] => [`${directory}/${name}`, readFileSync(join(root, directory, name), "utf8")]),
    ),
    ...Object.entries({ ...generated, ...consoleGenerated })
      .filter((entry): entry is [string, DocumentNode] => (entry[1] as { kind?: string } | null)?.kind === "Document")
      // A fragment's own document (AuditEventFieldsFragmentDoc) is checked inside the operations that use it.
      .filter(([, document]) => document.definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION))
      .map(([name, document]): [string, DocumentNode] => [`codegen ${name}`, document]),
    ["graphql-js getIntrospectionQuery", getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true })],
  ];

  it("checks a real set of documents", () => {
    expect(documents.filter(([name]) => name.startsWith("codegen")).length).toBeGreaterThanOrEqual(10);
    expect(documents.filter(([name]) => name.startsWith("test/operations")).length).toBeGreaterThanOrEqual(2);
  });

  it.each(documents)("%s parses under the token limit and passes every limit", (_name, document) => {
    const text = typeof document === "string" ? document : print(document);
    const parsed = parse(text, limitedParseOptions);
    expect(validate(schema, parsed, [...specifiedRules, ...extraValidationRules])).toEqual([]);
  });

  it("documents the limits README states", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    for (const value of [queryLimits.maxTokens, queryLimits.maxDepth, queryLimits.maxIntrospectionDepth, queryLimits.maxAliases, queryLimits.maxRootFieldRepeats, queryLimits.maxDirectives]) {
      expect(readme).toContain(String(value));
    }
    expect(readme).toContain(queryLimits.maxCost.toLocaleString("en-US"));
  });
});
