import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from "@apollo/server";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { newId } from "../auth/secrets.js";
import { requestInputRefusal } from "../graphql/storable-text.js";
import { crossOriginCredentialMessage, type CorsGate } from "./cors.js";
import { BodyNotUtf8Error, BodyTooLargeError, readBody } from "./read-body.js";
import { notUtf8Message, percentDecodesToUtf8 } from "./utf8-text.js";

/** A path answered outside GraphQL (`/healthz`, the JWKS). */
export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A /graphql request answered with an error before any operation ran in Apollo's pipeline. */
export interface GraphQLHttpRefusal {
  requestId: string;
  status: number;
  /** The error code the client got. */
  outcome: string;
  durationMs: number;
}

export interface GraphQLHttpOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /**
   * The operation's context, made once Apollo has accepted the request, with the request id already
   * sent back as `x-request-id` (every /graphql response carries one, refusals included).
   */
  context: (req: IncomingMessage, requestId: string) => Promise<TContext>;
  /** Bodies past this many bytes are refused (413) without being buffered. */
  maxBodyBytes: number;
  /** CORS for /graphql (SPEC §7); absent, /graphql answers every origin alike. */
  cors?: CorsGate;
  /** Other paths this server answers; anything else is a 404. */
  routes?: ReadonlyMap<string, Route>;
  /** Paths answered by prefix: the key itself and everything under `key/` (the console). */
  prefixRoutes?: ReadonlyMap<string, Route>;
  /** An unexpected failure of one request (answered 500). */
  logError: (error: unknown) => void;
  /**
   * A /graphql request refused before an operation ran: by the front door's checks here, or by
   * Apollo before its request pipeline (its CSRF check, a batch), where no plugin sees it: an error
   * answer from Apollo without `x-request-id`, which the access-log plugin sets on every response
   * of the pipeline. Requests that reach the pipeline are its plugins' to report.
   */
  onRefused?: (refusal: GraphQLHttpRefusal) => void;
}

type Outcome = Pick<GraphQLHttpRefusal, "status" | "outcome">;

/** Writes a /graphql error answer (and reports it as a refusal). */
type Refuse = (status: number, message: string, code: string, headers?: Record<string, string>) => void;

/**
 * The HTTP side of the server: node:http requests to Apollo's `executeHTTPGraphQLRequest` at
 * /graphql, with the front door's checks around it (a target that is a URL, CORS, the body read
 * within its limit as UTF-8, input no database can store refused, `cache-control: no-store`).
 * Works with any ApolloServer and context: the bench's Apollo floor uses it too.
 */
export function createGraphQLHttpHandler<TContext extends BaseContext>(options: GraphQLHttpOptions<TContext>): RequestListener {
  const { apollo, context, maxBodyBytes, cors, routes = new Map<string, Route>(), prefixRoutes = new Map<string, Route>(), logError, onRefused } = options;
  const routeOf = (pathname: string): Route | undefined => {
    const exact = routes.get(pathname);
    if (exact) return exact;
    for (const [prefix, route] of prefixRoutes) if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return route;
    return undefined;
  };

  /** Answers a /graphql request; returns what Apollo refused before its pipeline ran, if it did. */
  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string, refuse: Refuse): Promise<Outcome | void> => {
    if (cors && (await cors.handle(req, res))) return;
    if (cors?.refusesCredentials(req)) {
      refuse(401, crossOriginCredentialMessage, "UNAUTHENTICATED");
      return;
    }
    if (!percentDecodesToUtf8(url.search)) {
      refuse(400, notUtf8Message, "BAD_USER_INPUT");
      return;
    }
    let body: unknown;
    if (req.method === "POST") {
      const text = await readBody(req, maxBodyBytes);
      const contentType = req.headers["content-type"] ?? "";
      if (contentType.includes("json")) {
        try {
          body = JSON.parse(text);
        } catch {
          refuse(400, "The request body is not valid JSON.", "BAD_REQUEST");
          return;
        }
      } else {
        body = text;
      }
    }
    const refusal = requestInputRefusal(body) ?? requestInputRefusal(searchParamsInput(url));
    if (refusal) {
      refuse(400, refusal, "BAD_USER_INPUT");
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: req.method?.toUpperCase() ?? "GET", headers, search: url.search, body };
    const result = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => context(req, requestId) });
    const responseHeaders: Record<string, string> = {};
    for (const [key, value] of result.headers) responseHeaders[key] = value;
    const status = result.status ?? 200;
    if (result.body.kind === "complete") {
      res.writeHead(status, { ...responseHeaders, "content-length": Buffer.byteLength(result.body.string) });
      res.end(result.body.string);
    } else {
      res.writeHead(status, responseHeaders);
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
    // Apollo's pipeline sends x-request-id itself (the access-log plugin); an error answered without
    // it was refused before the pipeline, where no plugin runs.
    if (status >= 400 && !result.headers.has("x-request-id") && result.body.kind === "complete") {
      return { status, outcome: firstErrorCode(result.body.string) };
    }
  };

  return (req, res) => {
    // Responses carry tokens, session tokens and JWTs: no cache or proxy may keep one. (The JWKS
    // overrides this with its own.)
    res.setHeader("cache-control", "no-store");
    const start = performance.now();
    /** Set once the request is known to be for /graphql: every answer from then on carries it. */
    let requestId: string | undefined;
    const report = (refusal: Outcome) => {
      if (requestId) onRefused?.({ ...refusal, requestId, durationMs: Math.round((performance.now() - start) * 10) / 10 });
    };
    const refuse: Refuse = (status, message, code, headers) => {
      jsonResponse(res, status, errorBody(message, code), headers);
      report({ status, outcome: code });
    };
    void (async () => {
      try {
        const url = requestUrl(req);
        const route = url ? routeOf(url.pathname) : undefined;
        if (!url) {
          jsonResponse(res, 400, errorBody("The request target is not a valid URL.", "BAD_REQUEST"));
        } else if (route) {
          route(req, res);
        } else if (url.pathname === "/graphql") {
          requestId = newId("request");
          res.setHeader("x-request-id", requestId);
          const refusedByApollo = await handleGraphQL(req, res, url, requestId, refuse);
          if (refusedByApollo) report(refusedByApollo);
        } else {
          jsonResponse(res, 404, { error: "Not found. GraphQL is served at /graphql." });
        }
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          refuse(413, error.message, "PAYLOAD_TOO_LARGE", { connection: "close" });
          return;
        }
        if (error instanceof BodyNotUtf8Error) {
          refuse(400, error.message, "BAD_USER_INPUT");
          return;
        }
        // A client that hung up mid-body is gone: nothing failed here, and there is no one to answer.
        if (res.destroyed && (error as NodeJS.ErrnoException).code === "ECONNRESET") return;
        logError(error);
        if (!res.headersSent) refuse(500, "Internal server error.", "INTERNAL_SERVER_ERROR");
        else res.end();
      }
    })().catch(() => res.destroy());
  };
}

export function jsonResponse(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function errorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/** The code of the first error of an error answer's JSON text (BAD_REQUEST when it names none). */
function firstErrorCode(text: string): string {
  try {
    const code = (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: unknown } }> }).errors?.[0]?.extensions?.code;
    return typeof code === "string" ? code : "BAD_REQUEST";
  } catch {
    return "BAD_REQUEST";
  }
}

/** The first value of a request header, or null. */
export function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** The request's target as a URL, or null when Node's URL parser rejects it (`//:99999`, `//%`). */
function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? "/", "http://localhost");
  } catch {
    return null;
  }
}

/** What a request carries in its URL: every search parameter, and a GET's `variables` and `extensions` parsed. */
function searchParamsInput(url: URL): unknown[] {
  const parsed = ["variables", "extensions"].map((name) => {
    const text = url.searchParams.get(name);
    try {
      return text === null ? null : (JSON.parse(text) as unknown);
    } catch {
      return null;
    }
  });
  return [...parsed, ...url.searchParams.values()];
}
