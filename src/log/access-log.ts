import type { ApolloServerPlugin } from "@apollo/server";
import { getOperationAST, type DocumentNode, type GraphQLFormattedError } from "graphql";
import { performance } from "node:perf_hooks";
import { newId } from "../auth/secrets.js";
import type { RequestContext } from "../context.js";
import type { GraphQLHttpRefusal } from "../http/graphql-http-handler.js";
import type { Logger } from "./logger.js";

/**
 * One access line per GraphQL operation (SPEC §10), at `info`:
 * `{"msg":"graphql operation","transport":"http"|"ws","requestId","operationName","actor","outcome","durationMs"}`
 * (and `status` over HTTP). `requestId` is the operation context's: the one its audit events carry
 * and the `x-request-id` response header. `outcome` is `OK`, or the first error's code as the client
 * got it. Never the query text, the variables or a header.
 */
export interface AccessLine {
  transport: "http" | "ws";
  requestId: string;
  operationName: string | null;
  /**
   * member, backend, frontend, anonymous or invalid; null for an operation refused before it had a
   * context (on WebSocket, or on HTTP by the front door: body too large, a member key from another
   * origin's page, input no database can store, Apollo's CSRF check).
   */
  actor: string | null;
  outcome: string;
  durationMs: number;
  status?: number;
}

export const accessMessage = "graphql operation";

const graphqlName = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;

/** A client-sent operation name, only when it is a GraphQL name (anything else is the client's text). */
function nameOrNull(name: unknown): string | null {
  return typeof name === "string" && graphqlName.test(name) ? name : null;
}

function outcomeOf(errors: readonly GraphQLFormattedError[] | undefined): string {
  if (!errors?.length) return "OK";
  const code = errors[0]!.extensions?.code;
  return typeof code === "string" ? code : "UNKNOWN";
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/**
 * The access line of every HTTP operation that reaches Apollo's request pipeline, and `x-request-id`
 * on its response (the id the HTTP handler made and gave the context; the handler reports an
 * error answered without it as refused before the pipeline: `httpRefusalLog`).
 */
export function accessLogPlugin(logger: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const start = performance.now();
      return {
        async willSendResponse({ contextValue, operationName, request, response }) {
          const requestId = contextValue.requestId;
          response.http.headers.set("x-request-id", requestId);
          if (!logger.isLevelEnabled("info")) return;
          const errors = response.body.kind === "single" ? response.body.singleResult.errors : response.body.initialResult.errors;
          const line: AccessLine = {
            transport: "http",
            requestId,
            operationName: nameOrNull(operationName ?? request.operationName),
            actor: contextValue.actor.kind,
            outcome: outcomeOf(errors),
            durationMs: elapsed(start),
            status: response.http.status ?? 200,
          };
          logger.info(line, accessMessage);
        },
      };
    },
  };
}

/**
 * The access line of a /graphql request refused before any operation ran (the HTTP handler's
 * `onRefused`): no operation name or actor was read, and nothing of the request is logged.
 */
export function httpRefusalLog(logger: Logger): (refusal: GraphQLHttpRefusal) => void {
  return ({ requestId, status, outcome, durationMs }) => {
    if (!logger.isLevelEnabled("info")) return;
    const line: AccessLine = { transport: "http", requestId, operationName: null, actor: null, outcome, durationMs, status };
    logger.info(line, accessMessage);
  };
}

interface WsOperation {
  start: number;
  operationName: string | null;
  context?: RequestContext;
  outcome?: string;
}

/**
 * The access line of every WebSocket operation, written when it ends (a subscription: when it is
 * completed by either side or its socket closes). graphql-ws's hooks feed it, in their order:
 * `started` (onSubscribe), `contextMade`, `named` (onOperation), `errors` (onNext/onError, formatted),
 * then `completed` (onComplete) — or `refused` for an operation refused before it had a context,
 * which graphql-ws ends without onComplete.
 */
export class WsAccessLog {
  private readonly operations = new WeakMap<object, Map<string, WsOperation>>();

  constructor(private readonly logger: Logger) {}

  private of(socket: object): Map<string, WsOperation> {
    let map = this.operations.get(socket);
    if (!map) this.operations.set(socket, (map = new Map()));
    return map;
  }

  started(socket: object, id: string, operationName: unknown): void {
    if (!this.logger.isLevelEnabled("info")) return;
    this.of(socket).set(id, { start: performance.now(), operationName: nameOrNull(operationName) });
  }

  contextMade(socket: object, id: string, context: RequestContext): void {
    const operation = this.of(socket).get(id);
    if (operation) operation.context = context;
  }

  named(socket: object, id: string, document: DocumentNode, operationName: string | null | undefined): void {
    const operation = this.of(socket).get(id);
    const name = getOperationAST(document, operationName)?.name?.value;
    if (operation && name) operation.operationName = name;
  }

  errors(socket: object, id: string, errors: readonly GraphQLFormattedError[]): void {
    const operation = this.of(socket).get(id);
    if (!operation || operation.outcome || !errors.length) return;
    operation.outcome = outcomeOf(errors);
    // Refused before execution (parse, validation, limits): graphql-ws calls no onComplete.
    if (!operation.context) this.completed(socket, id);
  }

  completed(socket: object, id: string): void {
    const map = this.of(socket);
    const operation = map.get(id);
    if (!operation) return;
    map.delete(id);
    const line: AccessLine = {
      transport: "ws",
      requestId: operation.context?.requestId ?? newId("request"),
      operationName: operation.operationName,
      actor: operation.context?.actor.kind ?? null,
      outcome: operation.outcome ?? "OK",
      durationMs: elapsed(operation.start),
    };
    this.logger.info(line, accessMessage);
  }
}
