import { GraphQLError, type ValidationContext, type ValidationRule } from "graphql";

/** The message every transport gives for text no database can store as it was sent. */
export const unstorableTextMessage = "Strings must be valid Unicode without NUL (U+0000) characters.";

/** How deep variables and extensions may nest (graphql-js coerces them recursively; no real input comes near). */
export const maxInputNesting = 64;

export const tooDeeplyNestedMessage = `Variables and extensions may nest at most ${maxInputNesting} levels deep.`;

/**
 * Why the parsed JSON input of one request cannot be taken, or null. `parts` are its containers (a
 * body, or a list of the variables, extensions and other parameters), so the input inside them may
 * nest `maxInputNesting` levels. Refused:
 * - nesting deeper than that: graphql-js's coercion recurses per level, and a hostile 400 KB body
 *   nests 200,000 levels;
 * - a string (or key) with a NUL character (SQLite cuts the statement short, PostgreSQL refuses
 *   the value) or a lone UTF-16 surrogate (both databases store U+FFFD instead, so what was stored
 *   would differ from what was hashed into the audit chain).
 * Walks with an explicit stack: recursion here is what such a body used to overflow.
 */
export function requestInputRefusal(parts: unknown): string | null {
  // Two parallel stacks rather than one of pairs: a megabyte of input is walked without a tuple per value.
  const values: unknown[] = [parts];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === "string") {
      if (!isStorableText(value)) return unstorableTextMessage;
    } else if (value !== null && typeof value === "object") {
      if (depth > maxInputNesting) return tooDeeplyNestedMessage;
      if (Array.isArray(value)) {
        for (const item of value) {
          values.push(item);
          depths.push(depth + 1);
        }
      } else {
        for (const key of Object.keys(value)) {
          if (!isStorableText(key)) return unstorableTextMessage;
          values.push((value as Record<string, unknown>)[key]);
          depths.push(depth + 1);
        }
      }
    }
  }
  return null;
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isStorableText(text: string): boolean {
  return !text.includes("\u0000") && !loneSurrogate.test(text);
}

/** The same refusal for string literals written in the operation itself (`"a\u0000b"`, `"\ud800"`). */
export const storableStringLiterals: ValidationRule = (context: ValidationContext) => ({
  StringValue(node) {
    if (!isStorableText(node.value)) context.reportError(new GraphQLError(unstorableTextMessage, { nodes: [node] }));
  },
});
