import { ApolloServer, type ApolloServerOptions, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import type { MikroORM } from "@mikro-orm/core";
import type { GraphQLSchema } from "graphql";
import { createServer, type IncomingMessage } from "node:http";
import type { PresentedCredentials } from "./auth/credentials.js";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import { createRequestContext, type RequestContext } from "./context.js";
import { createOrm } from "./db/orm.js";
import { startWalCheckpointer } from "./db/wal-checkpointer.js";
import { createFormatError } from "./errors/format-error.js";
import { refuseSubscriptionsOverHttp } from "./graphql/http-subscription-refusal.js";
import { limitedParseOptions } from "./graphql/query-limits.js";
import { extraValidationRules } from "./graphql/validate-operation.js";
import { AllowedOrigins } from "./http/allowed-origins.js";
import { createClientAddressOf } from "./http/client-address.js";
import { consolePath, createConsoleRoute, defaultConsoleDirectory } from "./http/console-static.js";
import { CorsGate } from "./http/cors.js";
import { createGraphQLHttpHandler, headerValue, jsonResponse, type Route } from "./http/graphql-http-handler.js";
import { startGraphQLWsServer } from "./http/graphql-ws-server.js";
import { createReadinessCheck, listen, orderedShutdown, RequestDrain } from "./http/lifecycle.js";
import { accessLogPlugin, httpRefusalLog, WsAccessLog } from "./log/access-log.js";
import { logger as processLogger, setLogLevel, type Logger } from "./log/logger.js";
import { graphqlOperationMetricsPlugin } from "./metrics/graphql-operation-metrics.js";
import { startMetricsServer, type MetricsServer } from "./metrics/metrics-server.js";
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
  /** The METRICS_PORT listener's port (/metrics, /healthz, /readyz); undefined without METRICS_PORT. */
  metricsPort: number | undefined;
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
  /** Where the server logs; by default the process's logger (src/log/logger.ts) at LOG_LEVEL. */
  logger?: Logger;
  /** The built staff console served at /console; by default the installation's dist/console. */
  consoleDirectory?: string;
}

/** Builds and starts the whole server: HTTP + Apollo, graphql-ws, /healthz and the JWKS. */
export async function startApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  if (!options.logger) setLogLevel(config.logLevel);
  const logger = options.logger ?? processLogger;
  const orm = await createOrm({ databaseUrl: config.databaseUrl, onQuery: options.onQuery });
  // REDIS_URL: subscribers on every instance hear every instance's events; otherwise in-process.
  const pubsub = options.pubsub ?? (config.redisUrl ? await createRedisPubSub(config.redisUrl) : createInProcessPubSub());
  // The JWT issuer. Without PUBLIC_URL it names the port listened on, known only then when PORT=0.
  let publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
  const services = await createServices({ orm, clock, config, pubsub, publicUrl: () => publicUrl });
  const schema = await buildAppSchema(pubsub);
  const formatError = createFormatError((message, error) => logger.error({ err: error }, message));

  const apollo = await startApollo(schema, formatError, config.production, logger, [graphqlOperationMetricsPlugin(services.metrics), accessLogPlugin(logger)]);

  // SPEC §7: the client's address behind TRUST_PROXY, and CORS for the allowed browser origins.
  const clientAddressOf = createClientAddressOf(config.trustProxy);
  const allowedOrigins = new AllowedOrigins({
    configured: config.corsOrigins,
    loadProjectUrls: () => services.projects.loginRedirectUrls(),
    clock,
    log: (message, error) => logger.error({ err: error }, message),
  });
  await allowedOrigins.load();
  services.projects.onCreated((project) => allowedOrigins.add(project.loginRedirectUrl));
  services.projects.onUpdated((project) => allowedOrigins.add(project.loginRedirectUrl));
  const cors = new CorsGate(allowedOrigins, () => publicUrl);
  const contextOf = (req: IncomingMessage, credentials: PresentedCredentials, requestId?: string) =>
    createRequestContext(services.db, services, { credentials, requestId, ipAddress: clientAddressOf(req), userAgent: headerValue(req.headers["user-agent"]) });

  const requests = new RequestDrain();
  const readiness = createReadinessCheck({
    draining: () => requests.draining,
    pingDatabase: () => services.db.sql.one("select 1 as ok"),
    redisConnected: pubsub.isConnected && (() => pubsub.isConnected!()),
  });
  // Answered on PORT and on METRICS_PORT alike.
  const probes = new Map<string, Route>([
    // 503 while draining, so that a load balancer stops sending new work here.
    ["/healthz", (_req, res) => jsonResponse(res, requests.draining ? 503 : 200, { status: requests.draining ? "draining" : "ok" })],
    ["/readyz", (_req, res) => void readiness().then((state) => jsonResponse(res, state.ready ? 200 : 503, state.ready ? { status: "ready" } : { status: "not ready", reason: state.reason }))],
  ]);
  const handleHttp = createGraphQLHttpHandler({
    apollo,
    context: (req, requestId) => contextOf(req, { authorization: req.headers.authorization, publicToken: headerValue(req.headers["x-public-token"]) }, requestId),
    maxBodyBytes: config.maxBodyBytes,
    cors,
    routes: new Map<string, Route>([
      ...probes,
      // `issuer` (RFC 7517 §5 lets a JWK Set carry other members): the `iss` of the JWTs these keys
      // sign, so that a client reaching the server at another address than PUBLIC_URL knows what to expect.
      ["/.well-known/jwks.json", (_req, res) => jsonResponse(res, 200, { issuer: publicUrl, ...services.signingKeys.jwks() }, { "cache-control": "public, max-age=300" })],
    ]),
    prefixRoutes: new Map<string, Route>([[consolePath, createConsoleRoute({ directory: options.consoleDirectory ?? defaultConsoleDirectory() })]]),
    logError: (error) => logger.error({ err: error }, "request failed"),
    onRefused: httpRefusalLog(logger),
  });
  const httpServer = createServer(requests.track(handleHttp));

  // Listening before the WebSocket server is attached: attached, it re-emits a listen error
  // (EADDRINUSE) as its own, which graphql-ws logs as an "Internal error" of the WebSocket server.
  // Nothing can connect before the lines below run: they are synchronous.
  const port = await listen(httpServer, config.port);
  publicUrl = config.publicUrl ?? `http://localhost:${port}`;
  const webSockets = startGraphQLWsServer({
    httpServer,
    schema,
    maxPayloadBytes: config.maxBodyBytes,
    pingIntervalMs: config.wsPingIntervalMs,
    introspection: !config.production,
    cors,
    formatError,
    context: contextOf,
    metrics: services.metrics,
    accessLog: new WsAccessLog(logger),
  });

  // Started last, so that a start-up that fails before this point leaves no thread behind.
  const checkpointer = await startWalCheckpointer(config.databaseUrl, services.db);

  let metricsServer: MetricsServer | undefined;
  const close = orderedShutdown([
    () => requests.drain(httpServer),
    () => webSockets.close(),
    () => httpServer.closeAllConnections(),
    () => apollo.stop(),
    // No request can audit anything now: stop the webhook worker (it still writes) and the stream.
    () => services.webhookWorker.stop(),
    () => services.auditStream?.close(),
    () => services.signingKeys.stopRefreshing(),
    () => services.auditQuery.close(),
    () => pubsub.close?.(),
    () => checkpointer?.stop(),
    // Last before the database: its /readyz says "draining" until the very end.
    () => metricsServer?.close(),
    () => orm.close(true),
  ]);
  if (config.metricsPort !== undefined) {
    try {
      metricsServer = await startMetricsServer({ port: config.metricsPort, metrics: services.metrics, routes: probes, logError: (error) => logger.error({ err: error }, "metrics request failed") });
    } catch (error) {
      await close();
      throw error;
    }
  }

  // Sends deliveries queued before this start (a restart) and every one committed from now on.
  services.webhookWorker.start();
  logger.info({ port }, `Masquerade listening on http://localhost:${port}/graphql`);
  return { url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql`, port, publicUrl, services, orm, metricsPort: metricsServer?.port, close };
}

/** Apollo Server for HTTP, on the production settings when `production` (no introspection, no landing page). */
async function startApollo(
  schema: GraphQLSchema,
  formatError: ApolloServerOptions<RequestContext>["formatError"],
  production: boolean,
  logger: Logger,
  plugins: ReadonlyArray<ApolloServerPlugin<RequestContext>> = [],
): Promise<ApolloServer<RequestContext>> {
  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    logger,
    // Nothing sends automatic persisted queries: Apollo then answers any such extension with
    // PERSISTED_QUERY_NOT_SUPPORTED, instead of its untyped errors for a bad hash or version.
    persistedQueries: false,
    introspection: !production,
    hideSchemaDetailsFromClientErrors: true,
    validationRules: extraValidationRules,
    parseOptions: limitedParseOptions,
    includeStacktraceInErrorResponses: false,
    // main.ts drains on SIGTERM/SIGINT and stops Apollo last; Apollo's own handler would stop it
    // first and fail requests still in flight.
    stopOnTerminationSignals: false,
    // No cache-control hints are used: skip the per-field hook they cost.
    plugins: [ApolloServerPluginCacheControlDisabled(), production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true })],
  });
  apollo.addPlugin(refuseSubscriptionsOverHttp);
  for (const plugin of plugins) apollo.addPlugin(plugin);
  await apollo.start();
  return apollo;
}
