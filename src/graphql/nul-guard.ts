import { GraphQLError, type ValidationContext, type ValidationRule } from "graphql";

/** The message every transport gives for a NUL character in any input. */
export const nulInInputMessage = "Strings must not contain NUL (U+0000) characters.";

/**
 * Whether any string in `value` (a parsed request body or variables, nested to any depth) holds a
 * NUL character. Neither database accepts one in text: SQLite cuts the statement short and
 * PostgreSQL refuses the value, so it is refused at the door as bad input instead.
 */
export function containsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      if (key.includes("\u0000") || containsNul((value as Record<string, unknown>)[key])) return true;
    }
  }
  return false;
}

/** The same refusal for string literals written in the operation itself (`"a\u0000b"`). */
export const noNulInStringLiterals: ValidationRule = (context: ValidationContext) => ({
  StringValue(node) {
    if (node.value.includes("\u0000")) context.reportError(new GraphQLError(nulInInputMessage, { nodes: [node] }));
  },
});
