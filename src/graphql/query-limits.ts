import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { GraphQLError, type ParseOptions, type ValidationContext, type ValidationRule } from "graphql";
import { defaultPageSize, maxPageSize } from "./connection.js";
import { costLimit } from "./cost-limit.js";
import { rootFieldRepeatLimit } from "./root-field-limit.js";

/**
 * What one GraphQL document may ask for, on HTTP and WebSocket alike (SPEC §7). Every check is
 * linear in the document's size: each fragment is measured once, not once per spread. The largest
 * real documents (graphql-js's introspection query: 184 tokens, 15 levels, cost 220; test/operations:
 * under 250 tokens, 5 levels, cost 16,501 for a page of 500 audit events) fit with room to spare
 * (test/query-limits.test.ts checks every one of them).
 */
export const queryLimits = {
  /**
   * Lexical tokens per document, counted while parsing: parsing stops at the first one over, and the
   * document is refused as GRAPHQL_VALIDATION_FAILED like the other limits (parser-limit-refusal.ts).
   */
  maxTokens: 2_000,
  /** Nested selections (fragments followed, not counted as a level). */
  maxDepth: 12,
  /** For `__schema` (served only outside production): graphql-js's getIntrospectionQuery nests 15. */
  maxIntrospectionDepth: 16,
  maxAliases: 20,
  /** Response keys per root field: `a: verifyAuditLog(…) b: verifyAuditLog(…)` runs it twice. */
  maxRootFieldRepeats: 10,
  maxDirectives: 50,
  /** Each field 1, times the page size of the lists around it (`first`; a variable counts as 500). */
  maxCost: 50_000,
} as const;

/** graphql-js's parser counts tokens and aborts past the limit: no second pass over the document. */
export const limitedParseOptions: ParseOptions = { maxTokens: queryLimits.maxTokens };

type RejectHandler = (context: ValidationContext | null) => void;

/**
 * Options that make a graphql-armor rule (linear: it memoises each fragment) report `onReject` as a
 * validation error. By default it throws out of validation, with a message starting "Syntax Error:".
 */
const reporting = (onReject: RejectHandler) => ({ exposeLimits: false, propagateOnRejection: false, onReject: [onReject] });
const reportingAs = (message: string) => reporting((context) => context?.reportError(new GraphQLError(message)));

/**
 * armor's depth rule skips a `__schema` field entirely when ignoreIntrospection is on: a second one
 * bounds everything, introspection included, at the larger limit, and stays silent about a document
 * the first one already refused.
 */
function depthLimitRules(): ValidationRule[] {
  const message = (limit: number) => `The operation is nested deeper than ${limit} levels.`;
  const refused = new WeakSet<ValidationContext>();
  const common = { flattenFragments: true };
  return [
    maxDepthRule({
      ...common,
      n: queryLimits.maxDepth,
      ignoreIntrospection: true,
      ...reporting((context) => {
        if (!context) return;
        refused.add(context);
        context.reportError(new GraphQLError(message(queryLimits.maxDepth)));
      }),
    }),
    maxDepthRule({
      ...common,
      n: queryLimits.maxIntrospectionDepth,
      ignoreIntrospection: false,
      ...reporting((context) => {
        if (context && !refused.has(context)) context.reportError(new GraphQLError(message(queryLimits.maxIntrospectionDepth)));
      }),
    }),
  ];
}

/** The validation rules that enforce `queryLimits` (the token limit is enforced by the parser). */
export const queryLimitRules: ValidationRule[] = [
  ...depthLimitRules(),
  maxAliasesRule({ n: queryLimits.maxAliases, ...reportingAs(`The operation uses more than ${queryLimits.maxAliases} aliases.`) }),
  maxDirectivesRule({ n: queryLimits.maxDirectives, ...reportingAs(`The operation uses more than ${queryLimits.maxDirectives} directives.`) }),
  rootFieldRepeatLimit(queryLimits.maxRootFieldRepeats),
  costLimit({ maxCost: queryLimits.maxCost, defaultPageSize, maxPageSize }),
];
