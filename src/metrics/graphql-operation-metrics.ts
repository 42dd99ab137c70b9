import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { getOperationAST, Kind, type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { ServerOptions } from "graphql-ws";
import type { Metrics } from "./metrics.js";
import { okOutcome } from "./metrics.js";

/** The `operation` label of a request whose document did not parse or validate. */
export const unknownOperation = "unknown";
/** The `operation` label of an operation that selects more than one root field. */
export const multipleOperations = "multiple";

/**
 * The `operation` label: the one root field the operation selects (`createImpersonationToken`),
 * `multiple`, or `unknown` when the document did not validate. Never the client's own operation
 * name: anyone can send a million different ones, and each would become a time series kept for
 * ever (memory here, storage in Prometheus). Root fields come from the schema: a bounded set.
 */
export function operationLabel(document: DocumentNode | undefined, operation: OperationDefinitionNode | null | undefined): string {
  if (!document || !operation) return unknownOperation;
  const names = new Set<string>();
  const fragments = new Map(document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [])));
  const expanded = new Set<string>();
  const collect = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
      else if (!expanded.has(selection.name.value)) {
        expanded.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  if (names.size === 0) return unknownOperation;
  return names.size === 1 ? [...names][0]! : multipleOperations;
}

/** OK, or the code of the first formatted error (INTERNAL_SERVER_ERROR when it has none). */
function outcomeOfErrors(errors: ReadonlyArray<GraphQLFormattedError> | undefined | null): string {
  if (!errors?.length) return okOutcome;
  const code = errors[0]!.extensions?.code;
  return typeof code === "string" ? code : "INTERNAL_SERVER_ERROR";
}

/** Counts each HTTP operation Apollo answers, once its response (errors formatted) is final. */
export function graphqlOperationMetricsPlugin<TContext extends BaseContext>(metrics: Metrics): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ document, operation, response }) {
          const errors = response.body.kind === "single" ? response.body.singleResult.errors : response.body.initialResult.errors;
          metrics.graphqlOperations.inc({ operation: operationLabel(document, operation), outcome: outcomeOfErrors(errors), transport: "http" });
        },
      };
    },
  };
}

type WsHooks = Pick<ServerOptions<any, any>, "onSubscribe" | "onNext" | "onError" | "onComplete">;

/**
 * graphql-ws's hooks, wrapped to count each WebSocket operation once: refused before it runs
 * (`onSubscribe` returned errors: counted by `onError`, as no `onComplete` follows), or when it
 * completes, with the code of the first error it sent (a query's result, a subscription's event,
 * or the error that ended it) or OK. The hooks' own behaviour is unchanged.
 */
export function countingWsOperations<O extends WsHooks>(metrics: Metrics, hooks: O): O {
  /** Per socket (its graphql-ws context), the operations running on it: their label and outcome so far. */
  const running = new WeakMap<object, Map<string, { operation: string; outcome: string }>>();
  const operationsOf = (ctx: object) => {
    let operations = running.get(ctx);
    if (!operations) running.set(ctx, (operations = new Map()));
    return operations;
  };
  const count = (operation: string, outcome: string) => metrics.graphqlOperations.inc({ operation, outcome, transport: "ws" });
  return {
    ...hooks,
    onSubscribe: async (ctx, id, payload) => {
      const prepared = await hooks.onSubscribe?.(ctx, id, payload);
      if (prepared && !Array.isArray(prepared)) {
        const args = prepared as { document: DocumentNode; operationName?: string | null };
        // No operation of that name: graphql-ws answers an error, which counts it (no onComplete follows).
        const operation = getOperationAST(args.document, args.operationName);
        if (operation) operationsOf(ctx).set(id, { operation: operationLabel(args.document, operation), outcome: okOutcome });
      }
      return prepared;
    },
    onNext: async (ctx, id, payload, args, result) => {
      const formatted = await hooks.onNext?.(ctx, id, payload, args, result);
      const state = operationsOf(ctx).get(id);
      const errors = (formatted ?? result).errors as ReadonlyArray<GraphQLFormattedError> | undefined;
      if (state && state.outcome === okOutcome && errors?.length) state.outcome = outcomeOfErrors(errors);
      return formatted;
    },
    onError: async (ctx, id, payload, errors) => {
      const formatted = await hooks.onError?.(ctx, id, payload, errors);
      const outcome = outcomeOfErrors((formatted ?? errors.map((error) => error.toJSON())) as ReadonlyArray<GraphQLFormattedError>);
      const state = operationsOf(ctx).get(id);
      // Refused before running: nothing was recorded for it, and no onComplete follows.
      if (!state) count(unknownOperation, outcome);
      else if (state.outcome === okOutcome) state.outcome = outcome;
      return formatted;
    },
    onComplete: async (ctx, id, payload) => {
      await hooks.onComplete?.(ctx, id, payload);
      const operations = operationsOf(ctx);
      const state = operations.get(id);
      if (!state) return;
      operations.delete(id);
      count(state.operation, state.outcome);
    },
  };
}
