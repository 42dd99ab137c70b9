import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from "graphql";
import { withoutSuggestion } from "../errors/format-error.js";
import { depthLimit } from "./depth-limit.js";
import { storableStringLiterals } from "./storable-text.js";

/** Deep enough for every real query of the schema, shallow enough to stop abusive nesting. */
export const maxOperationDepth = 12;

/**
 * For `__schema` / `__type` (served only outside production): graphql-js's own
 * getIntrospectionQuery, which codegen and IDEs send, nests 15 levels.
 */
export const maxIntrospectionDepth = 16;

/** The extra validation rules every transport applies (Apollo on HTTP, graphql-ws on WebSocket). */
export const extraValidationRules: ValidationRule[] = [depthLimit(maxOperationDepth, { introspection: maxIntrospectionDepth }), storableStringLiterals];

/**
 * graphql-js validation for the WebSocket transport, with the same rules as HTTP (the depth limit;
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
