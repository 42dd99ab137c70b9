import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import type { MikroORM } from "@mikro-orm/core";
import { GraphQLError, parse, type GraphQLFormattedError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import { createRequestContext, type RequestContext } from "./context.js";
import { createOrm } from "./db/orm.js";
import { sqlDatabaseOf } from "./db/sql.js";
import { startWalCheckpointer } from "./db/wal-checkpointer.js";
import { createFormatError } from "./errors/format-error.js";
import { loggableError } from "./errors/loggable-error.js";
import { containsUnstorableText, unstorableTextMessage } from "./graphql/storable-text.js";
import { createSharedSubscribe } from "./graphql/shared-subscription-execution.js";
import { createOperationValidator, extraValidationRules } from "./graphql/validate-operation.js";
import { BodyTooLargeError, readBody } from "./http/read-body.js";
import { startHeartbeat } from "./http/ws-heartbeat.js";
import { refuseServerOnlyMessages } from "./http/ws-message-guard.js";
import { createInProcessPubSub, type AppPubSub } from "./pubsub/pubsub.js";
import { createRedisPubSub } from "./pubsub/redis-pubsub.js";
import { buildAppSchema } from "./schema.js";
import { createServices, type Services } from "./services.js";

export interface App {
  url: string;
  wsUrl: string;
  port: number;
  services: Services;
  orm: MikroORM;
  /** Stops accepting work, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  clock?: Clock;
  /** Override the pub/sub (e.g. Redis); in-process by default. */
  pubsub?: AppPubSub;
  /** Called with each SQL statement (tests count statements). */
  onQuery?: (sql: string) => void;
  log?: (message: string) => void;
}

function jsonResponse(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function errorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

export function credentialsFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined) {
  const value = (key: string) => (typeof params?.[key] === "string" ? (params[key] as string) : null);
  return { authorization: value("authorization") ?? value("Authorization"), publicToken: value("publicToken") };
}

/** Builds and starts the whole server: HTTP + Apollo, graphql-ws, /healthz and the JWKS. */
export async function startApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((message: string) => console.error(message));
  const orm = await createOrm({ databaseUrl: config.databaseUrl, onQuery: options.onQuery });
  // REDIS_URL: subscribers on every instance hear every instance's events; otherwise in-process.
  const pubsub = options.pubsub ?? (config.redisUrl ? await createRedisPubSub(config.redisUrl) : createInProcessPubSub());
  const services = await createServices({ orm, clock, config, pubsub });
  const schema = await buildAppSchema(pubsub);
  const formatError = createFormatError((message, error) =>
    console.error(`[masquerade] ${message}:`, loggableError(error)),
  );

  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    introspection: !config.production,
    hideSchemaDetailsFromClientErrors: true,
    validationRules: extraValidationRules,
    includeStacktraceInErrorResponses: false,
    // main.ts drains on SIGTERM/SIGINT and stops Apollo last; Apollo's own handler would stop it
    // first and fail requests still in flight.
    stopOnTerminationSignals: false,
    // No cache-control hints are used: skip the per-field hook they cost.
    plugins: [ApolloServerPluginCacheControlDisabled(), config.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true })],
  });
  await apollo.start();

  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | null = null;

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    let body: unknown;
    if (req.method === "POST") {
      const text = await readBody(req, config.maxBodyBytes);
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
    if (containsUnstorableText(body) || containsUnstorableText(searchParamsInput(url))) {
      jsonResponse(res, 400, errorBody(unstorableTextMessage, "BAD_USER_INPUT"));
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: req.method?.toUpperCase() ?? "GET", headers, search: url.search, body };
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: () =>
        createRequestContext(orm, services, {
          credentials: { authorization: req.headers.authorization, publicToken: headerValue(req.headers["x-public-token"]) },
          ipAddress: req.socket.remoteAddress ?? null,
          userAgent: headerValue(req.headers["user-agent"]),
        }),
    });
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

  const httpServer: Server = createServer((req, res) => {
    inFlight++;
    res.on("close", () => {
      inFlight--;
      if (draining && inFlight === 0) drained?.();
    });
    const url = new URL(req.url ?? "/", "http://localhost");
    if (draining) res.setHeader("connection", "close");
    void (async () => {
      try {
        if (url.pathname === "/healthz") {
          // 503 while draining, so that a load balancer stops sending new work here.
          jsonResponse(res, draining ? 503 : 200, { status: draining ? "draining" : "ok" });
        } else if (url.pathname === "/.well-known/jwks.json") {
          jsonResponse(res, 200, services.signingKeys.jwks(), { "cache-control": "public, max-age=300" });
        } else if (url.pathname === "/graphql") {
          await handleGraphQL(req, res, url);
        } else {
          jsonResponse(res, 404, { error: "Not found. GraphQL is served at /graphql." });
        }
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          jsonResponse(res, 413, errorBody(error.message, "PAYLOAD_TOO_LARGE"), { connection: "close" });
          return;
        }
        console.error("[masquerade] request failed:", loggableError(error));
        if (!res.headersSent) jsonResponse(res, 500, errorBody("Internal server error.", "INTERNAL_SERVER_ERROR"));
        else res.end();
      }
    })();
  });

  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.maxBodyBytes });
  const stopHeartbeat = startHeartbeat(wsServer, config.wsPingIntervalMs);
  refuseServerOnlyMessages(wsServer);
  const wsCleanup = useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      schema,
      validate: createOperationValidator({ introspection: !config.production }),
      subscribe: createSharedSubscribe(),
      onSubscribe: (_ctx, _id, payload) => {
        if (containsUnstorableText(payload.variables) || containsUnstorableText(payload.operationName)) {
          return [new GraphQLError(unstorableTextMessage, { extensions: { code: "BAD_USER_INPUT" } })];
        }
        // graphql-ws would let a syntax error escape and close the whole socket (4500): answer it as
        // HTTP does, for this operation alone.
        const syntaxError = syntaxErrorOf(payload.query);
        return syntaxError ? [new GraphQLError(syntaxError.message, { extensions: { code: "GRAPHQL_PARSE_FAILED" } })] : undefined;
      },
      context: (ctx) =>
        createRequestContext(orm, services, {
          credentials: credentialsFromConnectionParams(ctx.connectionParams),
          ipAddress: ctx.extra.request.socket.remoteAddress ?? null,
          userAgent: headerValue(ctx.extra.request.headers["user-agent"]),
        }) as unknown as Record<string, unknown>,
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors?.length) return;
        return { ...result, errors: result.errors.map((error) => formatError(error.toJSON() as GraphQLFormattedError, error)) };
      },
      // An error that ends a running subscription (e.g. its credential stopped being valid) arrives
      // wrapped by graphql-ws; unwrap it so a contract code passes and anything else is masked.
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) => formatError(error.toJSON() as GraphQLFormattedError, error.originalError ?? error)),
    },
    wsServer,
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  // Started last, so that a start-up that fails before this point leaves no thread behind.
  const checkpointer = await startWalCheckpointer(config.databaseUrl, sqlDatabaseOf(orm.em));

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      const idle = new Promise<void>((resolve) => {
        drained = resolve;
        if (inFlight === 0) resolve();
      });
      httpServer.close();
      httpServer.closeIdleConnections();
      await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      stopHeartbeat();
      await wsCleanup.dispose();
      for (const client of wsServer.clients) client.terminate();
      wsServer.close();
      httpServer.closeAllConnections();
      await apollo.stop();
      // No request can audit anything now: stop the webhook worker (it still writes) and the stream.
      await services.webhookWorker.stop();
      services.auditStream?.close();
      services.signingKeys.stopRefreshing();
      services.auditQuery.close();
      await pubsub.close?.();
      await checkpointer?.stop();
      await orm.close(true);
    })());

  // Sends deliveries queued before this start (a restart) and every one committed from now on.
  services.webhookWorker.start();
  log(`Masquerade listening on http://localhost:${port}/graphql`);
  return { url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql`, port, services, orm, close };
}

/** The syntax error of a WebSocket operation's query, or null when it parses. */
function syntaxErrorOf(query: unknown): GraphQLError | null {
  if (typeof query !== "string") return null;
  try {
    parse(query);
    return null;
  } catch (error) {
    if (error instanceof GraphQLError) return error;
    throw error;
  }
}

/** What a request carries in its URL: every search parameter, and `variables` (a GET's) parsed. */
function searchParamsInput(url: URL): unknown[] {
  const text = url.searchParams.get("variables");
  if (text === null) return [...url.searchParams.values()];
  try {
    return [JSON.parse(text), ...url.searchParams.values()];
  } catch {
    return [...url.searchParams.values()];
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
