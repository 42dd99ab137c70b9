import { DriverException } from "@mikro-orm/core";

const sqlFirst = /^\s*(select|insert|update|delete|with|pragma|begin|commit|rollback|savepoint|release|create|alter|drop)\b/i;

/**
 * An unexpected error as the server log shows it: its name, message and stack frames, but never
 * the SQL of a failed statement. knex puts that statement, with its values written in (emails,
 * names, hashes), before " - " in a driver error's message; only the driver's own words are kept.
 */
export function loggableError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const frames = (error.stack ?? "").split("\n").filter((line) => line.trimStart().startsWith("at "));
  return [`${error.name}: ${loggableMessage(error)}`, ...frames].join("\n");
}

/** An error's message without the SQL statement a driver error starts with. */
export function loggableMessage(error: Error): string {
  let message = error.message;
  // Converted by MikroORM, or a driver's own error that knex prefixed with the statement.
  if (error instanceof DriverException || sqlFirst.test(message)) {
    const cut = message.lastIndexOf(" - ");
    message = cut >= 0 ? `(statement omitted) - ${message.slice(cut + 3)}` : "(statement omitted)";
  }
  return message;
}
