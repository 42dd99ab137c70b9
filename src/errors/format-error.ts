import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import { parserLimitRefusal } from "../graphql/parser-limit-refusal.js";
import { AppError } from "./app-error.js";
import { ErrorCode } from "./codes.js";
import { variableErrorWithoutValue } from "./variable-error-message.js";

type Logger = (message: string, error: unknown) => void;

/** Codes that Apollo itself raises for malformed requests; safe to pass through. */
const requestErrorCodes = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

/** Credentials and tokens as Masquerade issues them, and compact JWTs. */
const secretShaped = /\bmq_(?:key|secret|public|imp|sess)_[A-Za-z0-9_-]+|\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/** graphql-js's "Did you mean …?" hints name types, fields and enum values: the schema, even with introspection off. */
const suggestion = / ?Did you mean [^?]*\?$/;

export function withoutSuggestion(message: string): string {
  return message.replace(suggestion, "");
}

/**
 * Never a token or credential in a message, even back to its own sender (messages end up in logs).
 * A variable's value is left out altogether; anything token-shaped left is redacted as a second
 * line of defence (app errors included: their messages should not repeat input in the first place).
 */
function redact(message: string, cause?: unknown): string {
  const plain = variableErrorWithoutValue(message, cause) ?? withoutSuggestion(message);
  return plain.includes("mq_") || plain.includes("eyJ") ? plain.replace(secretShaped, "[redacted]") : plain;
}

/** The error graphql-js adds after its 50th refused value of a request's variables (no code of its own). */
const tooManyVariableErrors = "Too many errors processing variables";

/**
 * The cause graphql-js keeps of a refused variable: on WebSocket, the error's own; over HTTP, Apollo
 * wraps the error (UserInputError) and keeps graphql-js's cause as its own.
 */
function causeOf(error: unknown): unknown {
  return error instanceof GraphQLError ? error.originalError : undefined;
}

/** Apollo's own wording names the framework and how to reconfigure it; clients need less. */
function plainIntrospectionRefusal(message: string): string {
  return message.startsWith("GraphQL introspection is not allowed") ? "Introspection is disabled on this server." : message;
}

/**
 * Passes contract errors through and masks everything else: no stack, SQL, secret or token leaves
 * the server. Unknown errors are logged server-side (message and stack only).
 */
export function createFormatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      return { message: redact(original.message), path: formatted.path, locations: formatted.locations, extensions: { ...original.extensions } };
    }
    const code = formatted.extensions?.code;
    if (code === "GRAPHQL_PARSE_FAILED") {
      // Over the token limit, or too deep for the parser: a query limit (SPEC §7), not a syntax error.
      const limit = parserLimitRefusal(original);
      if (limit) return { message: limit, locations: formatted.locations, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } };
    }
    if (typeof code === "string" && requestErrorCodes.has(code) && !(original instanceof Error && !(original instanceof GraphQLError))) {
      return { message: plainIntrospectionRefusal(redact(formatted.message, causeOf(original))), locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    // graphql-js's own refusals without a code: a variable that does not coerce (which carries its
    // cause, and no path: it is raised before any field runs), or an error with no underlying exception.
    // Its "Too many errors" after 50 refused values comes over HTTP with Apollo's default code.
    const refusedVariables = original instanceof GraphQLError && original.path === undefined && original.message.startsWith(tooManyVariableErrors);
    if (refusedVariables || (original instanceof GraphQLError && code === undefined && (!original.originalError || original.path === undefined))) {
      return { message: redact(formatted.message, causeOf(original)), locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    log("unexpected error", original);
    return { message: "Internal server error.", path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
