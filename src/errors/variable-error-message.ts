/**
 * graphql-js words a variable that does not coerce as `Variable "$v" got invalid value <the value>
 * at "v.path"; <reason>`, and most reasons repeat the value again (`Int cannot represent
 * non-integer value: "abc"`). Values may be tokens: this says which variable, where, and what is
 * wrong, and nothing of what was sent.
 */
export function variableErrorWithoutValue(message: string, cause: unknown): string | null {
  const variable = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" got invalid value /.exec(message)?.[1];
  if (variable === undefined) return null;
  const reason = cause instanceof Error ? cause.message : "";
  // The prefix is everything before "; <reason>"; its path (schema field names and list indexes
  // only) ends it when the value sits inside the variable.
  const prefix = reason && message.endsWith(`; ${reason}`) ? message.slice(0, -(reason.length + 2)) : "";
  const path = new RegExp(` at "(${variable}(?:\\.[_A-Za-z][_0-9A-Za-z]*|\\[\\d+\\])*)"$`).exec(prefix)?.[1];
  return `Variable "$${variable}" got an invalid value${path ? ` at "${path}"` : ""}; ${reasonWithoutValue(reason)}`;
}

const name = "[_A-Za-z][_0-9A-Za-z]*";
/** A type as graphql-js prints it: a name, in lists, with `!`s. */
const typeRef = `[\\[\\]!_0-9A-Za-z]+`;

/**
 * The reasons graphql-js (and graphql-scalars) give, as [pattern, wording without the value].
 * Quoted names that come from the schema are kept; a caller's own key or enum value is not.
 */
const reasons: Array<[RegExp, (match: RegExpExecArray) => string]> = [
  [new RegExp(`^(Int|Float|String|Boolean|ID) cannot represent ([^:]+):`), (m) => `${m[1]} cannot represent ${m[2]}.`],
  [new RegExp(`^Enum "(${name})" cannot represent ([^:]+):`), (m) => `Enum "${m[1]}" cannot represent ${m[2]}.`],
  [new RegExp(`^Value "[\\s\\S]*" does not exist in "(${name})" enum\\.`), (m) => `The value is not one of the "${m[1]}" enum's values.`],
  [new RegExp(`^(${name}) cannot represent (an invalid [-\\w]+|an invalid Date instance|an invalid Unix timestamp|non string or Date type)`), (m) => `${m[1]} cannot represent ${m[2]}.`],
  [new RegExp(`^Expected type "(${name})" to be an object\\.`), (m) => `Expected type "${m[1]}" to be an object.`],
  [new RegExp(`^Field "(${name})" of required type "(${typeRef})" was not provided\\.`), (m) => `Field "${m[1]}" of required type "${m[2]}" was not provided.`],
  [new RegExp(`^Field "[\\s\\S]*" is not defined by type "(${name})"\\.`), (m) => `A field that type "${m[1]}" does not define was given.`],
  [new RegExp(`^Exactly one key must be specified for OneOf type "(${name})"\\.`), (m) => m[0]],
  [new RegExp(`^Field "[\\s\\S]*" must be non-null\\.`), () => "A field must be non-null."],
  [new RegExp(`^Expected non-nullable type "(${typeRef})" not to be null\\.`), (m) => m[0]],
  [new RegExp(`^Expected type "(${name})"\\.`), (m) => `Expected type "${m[1]}".`],
];

function reasonWithoutValue(reason: string): string {
  for (const [pattern, wording] of reasons) {
    const match = pattern.exec(reason);
    if (match) return wording(match);
  }
  return "it does not fit the variable's type.";
}
