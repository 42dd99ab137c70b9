import { GraphQLError, type ValidationContext, type ValidationRule } from "graphql";

/** The message every transport gives for text no database can store as it was sent. */
export const unstorableTextMessage = "Strings must be valid Unicode without NUL (U+0000) characters.";

/**
 * Whether any string in `value` (a parsed request body or variables, nested to any depth) cannot be
 * stored as it was sent: a NUL character (SQLite cuts the statement short, PostgreSQL refuses the
 * value) or a lone UTF-16 surrogate (both databases store U+FFFD instead, so what was stored would
 * differ from what was hashed into the audit chain). Refused at the door as bad input instead.
 */
export function containsUnstorableText(value: unknown): boolean {
  if (typeof value === "string") return !isStorableText(value);
  if (Array.isArray(value)) return value.some(containsUnstorableText);
  if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      if (!isStorableText(key) || containsUnstorableText((value as Record<string, unknown>)[key])) return true;
    }
  }
  return false;
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
