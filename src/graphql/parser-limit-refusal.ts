import { GraphQLError } from "graphql";
import { queryLimits } from "./query-limits.js";

/** graphql-js's own wording when parsing passes `maxTokens` (16.x spells it "more that"). */
const tokenLimitError = /^Syntax Error: Document contains more tha[nt] \d+ tokens\. Parsing aborted\.$/;

const tooManyTokensMessage = `The operation contains more than ${queryLimits.maxTokens} tokens.`;
/** graphql-js's parser is recursive and has no depth limit of its own: the call stack is its limit. */
const tooDeepToParseMessage = "The operation is nested too deeply to parse.";

/**
 * The message to refuse a document with when its parse stopped at one of the parser's limits (its
 * token limit, or the end of the call stack) rather than at a syntax error, or null for anything
 * else. Such a document is over a query limit, not malformed: SPEC §7 answers it
 * GRAPHQL_VALIDATION_FAILED like the limits checked by validation. The error is the parser's own,
 * or Apollo's wrapping of it (Apollo wraps a thrown RangeError twice): its causes are followed.
 */
export function parserLimitRefusal(error: unknown): string | null {
  for (let cause = error, hops = 0; cause instanceof Error && hops < 4; cause = (cause as GraphQLError).originalError, hops++) {
    if (cause instanceof RangeError) return tooDeepToParseMessage;
    if (cause instanceof GraphQLError && tokenLimitError.test(cause.message)) return tooManyTokensMessage;
  }
  return null;
}
