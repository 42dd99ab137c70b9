import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import type { MikroORM } from "@mikro-orm/core";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import { createRequestContext, type RequestContext } from "./context.js";
import { createOrm } from "./db/orm.js";
import { databaseOf } from "./db/database-of.js";
import { startWalCheckpointer } from "./db/wal-checkpointer.js";
import { AppError } from "./errors/app-error.js";
import { ErrorCode } from "./errors/codes.js";
import { createFormatError } from "./errors/format-error.js";
import { loggableError } from "./errors/loggable-error.js";
import { SettingError } from "./errors/setting-error.js";
import { refuseSubscriptionsOverHttp } from "./graphql/http-subscription-refusal.js";
import { requestInputRefusal } from "./graphql/storable-text.js";
import { createSharedSubscribe } from "./graphql/shared-subscription-execution.js";
import { limitedParseOptions } from "./graphql/query-limits.js";
import { createOperationPreparer, extraValidationRules } from "./graphql/validate-operation.js";
import { AllowedOrigins } from "./http/allowed-origins.js";
import { createClientAddressOf } from "./http/client-address.js";
import { CorsGate, crossOriginCredentialMessage } from "./http/cors.js";
import { BodyNotUtf8Error, BodyTooLargeError, readBody } from "./http/read-body.js";
import { notUtf8Message, percentDecodesToUtf8 } from "./http/utf8-text.js";
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
  /** PUBLIC_URL, or http://localhost:<port>: the JWT issuer. */
  publicUrl: string;
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
  // The JWT issuer. Without PUBLIC_URL it names the port listened on, known only then when PORT=0.
  let publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
  const services = await createServices({ orm, clock, config, pubsub, publicUrl: () => publicUrl });
  const schema = await buildAppSchema(pubsub);
  const formatError = createFormatError((message, error) =>
    console.error(`[masquerade] ${message}:`, loggableError(error)),
  );

  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    // Nothing sends automatic persisted queries: Apollo then answers any such extension with
    // PERSISTED_QUERY_NOT_SUPPORTED, instead of its untyped errors for a bad hash or version.
    persistedQueries: false,
    introspection: !config.production,
    hideSchemaDetailsFromClientErrors: true,
    validationRules: extraValidationRules,
    parseOptions: limitedParseOptions,
    includeStacktraceInErrorResponses: false,
    // main.ts drains on SIGTERM/SIGINT and stops Apollo last; Apollo's own handler would stop it
    // first and fail requests still in flight.
    stopOnTerminationSignals: false,
    // No cache-control hints are used: skip the per-field hook they cost.
    plugins: [ApolloServerPluginCacheControlDisabled(), config.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true })],
  });
  apollo.addPlugin(refuseSubscriptionsOverHttp);
  await apollo.start();

  // SPEC §7: the client's address behind TRUST_PROXY, and CORS for the allowed browser origins.
  const clientAddressOf = createClientAddressOf(config.trustProxy);
  const allowedOrigins = new AllowedOrigins({
    configured: config.corsOrigins,
    loadProjectUrls: () => services.projects.loginRedirectUrls(databaseOf(orm.em).sql),
    clock,
    log: (message, error) => console.error(`[masquerade] ${message}:`, loggableError(error)),
  });
  await allowedOrigins.load();
  services.projects.onCreated((project) => allowedOrigins.add(project.loginRedirectUrl));
  const cors = new CorsGate(allowedOrigins, () => publicUrl);

  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | null = null;

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!percentDecodesToUtf8(url.search)) {
      jsonResponse(res, 400, errorBody(notUtf8Message, "BAD_USER_INPUT"));
      return;
    }
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
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: () =>
        createRequestContext(orm, services, {
          credentials: { authorization: req.headers.authorization, publicToken: headerValue(req.headers["x-public-token"]) },
          ipAddress: clientAddressOf(req),
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
    // Responses carry tokens, session tokens and JWTs: no cache or proxy may keep one. (The JWKS
    // overrides this with its own.)
    res.setHeader("cache-control", "no-store");
    if (draining) res.setHeader("connection", "close");
    void (async () => {
      try {
        const url = requestUrl(req);
        if (!url) {
          jsonResponse(res, 400, errorBody("The request target is not a valid URL.", "BAD_REQUEST"));
        } else if (url.pathname === "/healthz") {
          // 503 while draining, so that a load balancer stops sending new work here.
          jsonResponse(res, draining ? 503 : 200, { status: draining ? "draining" : "ok" });
        } else if (url.pathname === "/.well-known/jwks.json") {
          jsonResponse(res, 200, services.signingKeys.jwks(), { "cache-control": "public, max-age=300" });
        } else if (url.pathname === "/graphql") {
          if (await cors.handle(req, res)) return;
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
        console.error("[masquerade] request failed:", loggableError(error));
        if (!res.headersSent) jsonResponse(res, 500, errorBody("Internal server error.", "INTERNAL_SERVER_ERROR"));
        else res.end();
      }
    })().catch(() => res.destroy());
  });

  // Listening before the WebSocket server is attached: attached, it re-emits a listen error
  // (EADDRINUSE) as its own, which graphql-ws logs as an "Internal error" of the WebSocket server.
  // Nothing can connect before the lines below run: they are synchronous.
  const port = await listen(httpServer, config.port);
  publicUrl = config.publicUrl ?? `http://localhost:${port}`;
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.maxBodyBytes });
  const stopHeartbeat = startHeartbeat(wsServer, config.wsPingIntervalMs);
  refuseServerOnlyMessages(wsServer);
  const prepareOperation = createOperationPreparer(schema, { introspection: !config.production });
  const wsCleanup = useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      schema,
      subscribe: createSharedSubscribe(),
      // Browsers apply no CORS to WebSockets: a page of an origin CORS would refuse is refused here (4403).
      onConnect: (ctx) => cors.admitsWebSocket(ctx.extra.request),
      onSubscribe: (ctx, _id, payload) => {
        // Browsers send Origin on the upgrade: a page of another origin gets the public token only.
        if (cors.isForeign(ctx.extra.request) && credentialsFromConnectionParams(ctx.connectionParams).authorization?.trim()) {
          return [new AppError(ErrorCode.UNAUTHENTICATED, crossOriginCredentialMessage)];
        }
        const refusal = requestInputRefusal([payload.variables, payload.extensions, payload.operationName]);
        if (refusal) return [new GraphQLError(refusal, { extensions: { code: "BAD_USER_INPUT" } })];
        // Parsed (token limit) and validated (query limits) here, never by graphql-ws itself.
        return prepareOperation(payload);
      },
      context: (ctx) =>
        createRequestContext(orm, services, {
          credentials: credentialsFromConnectionParams(ctx.connectionParams),
          ipAddress: clientAddressOf(ctx.extra.request),
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

  // Started last, so that a start-up that fails before this point leaves no thread behind.
  const checkpointer = await startWalCheckpointer(config.databaseUrl, databaseOf(orm.em));

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
  return { url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql`, port, publicUrl, services, orm, close };
}

/** Listens on PORT (0: any free port) and resolves with the port; a port that cannot be had is a SettingError. */
function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === "EADDRINUSE" ? "is already in use"
        : error.code === "EACCES" ? "needs privileges this process does not have (ports below 1024)"
        : `cannot be listened on: ${error.message}`;
      reject(new SettingError("PORT", `${port} ${reason}`));
    };
    server.once("error", refused);
    server.listen(port, () => {
      server.off("error", refused);
      resolve((server.address() as AddressInfo).port);
    });
  });
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

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
