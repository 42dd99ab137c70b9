import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from "@apollo/server";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { requestInputRefusal } from "../graphql/storable-text.js";
import type { CorsGate } from "./cors.js";
import { BodyNotUtf8Error, BodyTooLargeError, readBody } from "./read-body.js";
import { notUtf8Message, percentDecodesToUtf8 } from "./utf8-text.js";

/** A path answered outside GraphQL (`/healthz`, the JWKS). */
export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface GraphQLHttpOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** The operation's context, made once Apollo has accepted the request. */
  context: (req: IncomingMessage) => Promise<TContext>;
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
}

/**
 * The HTTP side of the server: node:http requests to Apollo's `executeHTTPGraphQLRequest` at
 * /graphql, with the front door's checks around it (a target that is a URL, CORS, the body read
 * within its limit as UTF-8, input no database can store refused, `cache-control: no-store`).
 * Works with any ApolloServer and context: the bench's Apollo floor uses it too.
 */
export function createGraphQLHttpHandler<TContext extends BaseContext>(options: GraphQLHttpOptions<TContext>): RequestListener {
  const { apollo, context, maxBodyBytes, cors, routes = new Map<string, Route>(), prefixRoutes = new Map<string, Route>(), logError } = options;
  const routeOf = (pathname: string): Route | undefined => {
    const exact = routes.get(pathname);
    if (exact) return exact;
    for (const [prefix, route] of prefixRoutes) if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return route;
    return undefined;
  };

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!percentDecodesToUtf8(url.search)) {
      jsonResponse(res, 400, errorBody(notUtf8Message, "BAD_USER_INPUT"));
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
          jsonResponse(res, 400, errorBody("The request body is not valid JSON.", "BAD_REQUEST"));
          return;
        }
      } else {
        body = text;
      }
    }
    const refusal = requestInputRefusal(body) ?? requestInputRefusal(searchParamsInput(url));
    if (refusal) {
      jsonResponse(res, 400, errorBody(refusal, "BAD_USER_INPUT"));
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: req.method?.toUpperCase() ?? "GET", headers, search: url.search, body };
    const result = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => context(req) });
    const responseHeaders: Record<string, string> = {};
    for (const [key, value] of result.headers) responseHeaders[key] = value;
    if (result.body.kind === "complete") {
      res.writeHead(result.status ?? 200, { ...responseHeaders, "content-length": Buffer.byteLength(result.body.string) });
      res.end(result.body.string);
    } else {
      res.writeHead(result.status ?? 200, responseHeaders);
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };

  return (req, res) => {
    // Responses carry tokens, session tokens and JWTs: no cache or proxy may keep one. (The JWKS
    // overrides this with its own.)
    res.setHeader("cache-control", "no-store");
    void (async () => {
      try {
        const url = requestUrl(req);
        const route = url ? routeOf(url.pathname) : undefined;
        if (!url) {
          jsonResponse(res, 400, errorBody("The request target is not a valid URL.", "BAD_REQUEST"));
        } else if (route) {
          route(req, res);
        } else if (url.pathname === "/graphql") {
          if (cors && (await cors.handle(req, res))) return;
          await handleGraphQL(req, res, url);
        } else {
          jsonResponse(res, 404, { error: "Not found. GraphQL is served at /graphql." });
        }
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          jsonResponse(res, 413, errorBody(error.message, "PAYLOAD_TOO_LARGE"), { connection: "close" });
          return;
        }
        if (error instanceof BodyNotUtf8Error) {
          jsonResponse(res, 400, errorBody(error.message, "BAD_USER_INPUT"));
          return;
        }
        // A client that hung up mid-body is gone: nothing failed here, and there is no one to answer.
        if (res.destroyed && (error as NodeJS.ErrnoException).code === "ECONNRESET") return;
        logError(error);
        if (!res.headersSent) jsonResponse(res, 500, errorBody("Internal server error.", "INTERNAL_SERVER_ERROR"));
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
