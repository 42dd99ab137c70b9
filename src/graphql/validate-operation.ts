import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
  type ValidationRule,
} from "graphql";
import { withoutSuggestion } from "../errors/format-error.js";
import { parserLimitRefusal } from "./parser-limit-refusal.js";
import { limitedParseOptions, queryLimitRules } from "./query-limits.js";
import { storableStringLiterals } from "./storable-text.js";

/** The extra validation rules every transport applies (Apollo on HTTP, graphql-ws on WebSocket). */
export const extraValidationRules: ValidationRule[] = [...queryLimitRules, storableStringLiterals];

/**
 * graphql-js validation for the WebSocket transport, with the same rules as HTTP (the query limits;
 * no introspection in production) and without "Did you mean …" suggestions, which would reveal the
 * schema even with introspection off.
 */
export function createOperationValidator(options: { introspection: boolean }) {
  const rules = [...specifiedRules, ...extraValidationRules, ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  // The same code as Apollo gives these on HTTP.
  return (schema: GraphQLSchema, document: DocumentNode): ReadonlyArray<GraphQLError> =>
    validate(schema, document, rules).map(
      (error) =>
        new GraphQLError(withoutSuggestion(error.message), {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
        }),
    );
}

/** What a graphql-ws `subscribe` message carries. */
export interface OperationPayload {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/**
 * Parses (with the token limit) and validates a WebSocket operation, as Apollo does on HTTP (and as
 * formatError re-codes there, a parse stopped by the parser's limits is GRAPHQL_VALIDATION_FAILED): its
 * execution arguments, or the errors to answer for this operation alone. graphql-ws would let an
 * error thrown by its own parse close the whole socket (4500, with the internal message as reason).
 */
export function createOperationPreparer(schema: GraphQLSchema, options: { introspection: boolean }) {
  const validateOperation = createOperationValidator(options);
  return (payload: OperationPayload): ExecutionArgs | GraphQLError[] => {
    let document: DocumentNode;
    try {
      document = parse(payload.query, limitedParseOptions);
    } catch (error) {
      // The parser's limits are query limits, refused as validation is (SPEC §7); the rest is syntax.
      const limit = parserLimitRefusal(error);
      if (limit) return [new GraphQLError(limit, { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })];
      const message = error instanceof GraphQLError ? error.message : "The document could not be parsed.";
      return [new GraphQLError(message, { extensions: { code: "GRAPHQL_PARSE_FAILED" } })];
    }
    const errors = validateOperation(schema, document);
    if (errors.length > 0) return [...errors];
    return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
  };
}
