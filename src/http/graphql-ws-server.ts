import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import type { IncomingMessage, Server } from "node:http";
import { WebSocketServer } from "ws";
import type { PresentedCredentials } from "../auth/credentials.js";
import type { RequestContext } from "../context.js";
import { AppError } from "../errors/app-error.js";
import { ErrorCode } from "../errors/codes.js";
import { createSharedSubscribe } from "../graphql/shared-subscription-execution.js";
import { requestInputRefusal } from "../graphql/storable-text.js";
import { createOperationPreparer } from "../graphql/validate-operation.js";
import type { WsAccessLog } from "../log/access-log.js";
import { countingWsOperations } from "../metrics/graphql-operation-metrics.js";
import type { Metrics } from "../metrics/metrics.js";
import { crossOriginCredentialMessage, type CorsGate } from "./cors.js";
import { startHeartbeat } from "./ws-heartbeat.js";
import { refuseServerOnlyMessages } from "./ws-message-guard.js";

export interface GraphQLWsOptions {
  /** The HTTP server whose upgrades to /graphql become graphql-ws connections; listening already. */
  httpServer: Server;
  schema: GraphQLSchema;
  /** Messages past this many bytes close the socket (the HTTP body limit). */
  maxPayloadBytes: number;
  pingIntervalMs: number;
  introspection: boolean;
  cors: CorsGate;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** The operation's context, from the upgrade request and the credentials of `connection_init`. */
  context: (request: IncomingMessage, credentials: PresentedCredentials) => Promise<object>;
  /** Counts each operation (masquerade_graphql_operations_total, transport "ws"). */
  metrics: Metrics;
  /** Told of each operation's start, context, errors and end: writes its access line. */
  accessLog?: WsAccessLog;
}

export interface GraphQLWsServer {
  /** Stops the heartbeat, completes every subscription and closes every socket. */
  close(): Promise<void>;
}

export function credentialsFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): PresentedCredentials {
  const value = (key: string) => (typeof params?.[key] === "string" ? (params[key] as string) : null);
  return { authorization: value("authorization") ?? value("Authorization"), publicToken: value("publicToken") };
}

/**
 * GraphQL over WebSocket (graphql-ws) at /graphql: the same CORS rule, input refusal, parse and
 * validation limits and error masking as HTTP (Apollo's rules and plugins do not run here), a
 * heartbeat, and a guard against messages only a server may send.
 */
export function startGraphQLWsServer(options: GraphQLWsOptions): GraphQLWsServer {
  const { schema, cors, formatError, accessLog } = options;
  const wsServer = new WebSocketServer({ server: options.httpServer, path: "/graphql", maxPayload: options.maxPayloadBytes });
  const stopHeartbeat = startHeartbeat(wsServer, options.pingIntervalMs);
  refuseServerOnlyMessages(wsServer);
  const prepareOperation = createOperationPreparer(schema, { introspection: options.introspection });
  const wsCleanup = useServer<Record<string, unknown>, { request: IncomingMessage }>(
    countingWsOperations(options.metrics, {
      schema,
      subscribe: createSharedSubscribe(),
      // Browsers apply no CORS to WebSockets: a page of an origin CORS would refuse is refused here (4403).
      onConnect: (ctx) => cors.admitsWebSocket(ctx.extra.request),
      onSubscribe: (ctx, id, payload) => {
        accessLog?.started(ctx, id, payload.operationName);
        // Browsers send Origin on the upgrade: a page of another origin gets the public token only.
        if (cors.isForeign(ctx.extra.request) && credentialsFromConnectionParams(ctx.connectionParams).authorization?.trim()) {
          return [new AppError(ErrorCode.UNAUTHENTICATED, crossOriginCredentialMessage)];
        }
        const refusal = requestInputRefusal([payload.variables, payload.extensions, payload.operationName]);
        if (refusal) return [new GraphQLError(refusal, { extensions: { code: "BAD_USER_INPUT" } })];
        // Parsed (token limit) and validated (query limits) here, never by graphql-ws itself.
        return prepareOperation(payload);
      },
      context: async (ctx, id) => {
        const context = await options.context(ctx.extra.request, credentialsFromConnectionParams(ctx.connectionParams));
        accessLog?.contextMade(ctx, id, context as RequestContext);
        return context as unknown as Record<string, unknown>;
      },
      onOperation: (ctx, id, _payload, args) => accessLog?.named(ctx, id, args.document, args.operationName),
      onNext: (ctx, id, _payload, _args, result) => {
        if (!result.errors?.length) return;
        const errors = result.errors.map((error) => formatError(error.toJSON() as GraphQLFormattedError, error));
        accessLog?.errors(ctx, id, errors);
        return { ...result, errors };
      },
      // An error that ends a running subscription (e.g. its credential stopped being valid) arrives
      // wrapped by graphql-ws; unwrap it so a contract code passes and anything else is masked.
      onError: (ctx, id, _payload, errors) => {
        const formatted = errors.map((error) => formatError(error.toJSON() as GraphQLFormattedError, error.originalError ?? error));
        accessLog?.errors(ctx, id, formatted);
        return formatted;
      },
      onComplete: (ctx, id) => accessLog?.completed(ctx, id),
    }),
    wsServer,
  );
  return {
    async close() {
      stopHeartbeat();
      await wsCleanup.dispose();
      for (const client of wsServer.clients) client.terminate();
      wsServer.close();
    },
  };
}
