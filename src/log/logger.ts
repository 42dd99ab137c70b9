import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "../config.js";
import { loggableError, loggableMessage } from "../errors/loggable-error.js";

export type { Logger };

/**
 * Keys whose values are never written, at any depth pino's redaction reaches (top level, and one
 * and two objects down). Nothing logs a request's headers, body or variables in the first place;
 * this is the second line of defence should a future call pass one of them.
 */
export const redactedKeys = ["authorization", "x-public-token", "token", "sessionToken", "sessionJwt", "apiKey", "secret", "password", "variables"] as const;

function redactPaths(): string[] {
  return redactedKeys.flatMap((key) => {
    const step = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
    const top = step.startsWith(".") ? key : step;
    return [top, `*${step}`, `*.*${step}`];
  });
}

/** Credentials and tokens as Masquerade issues them, and compact JWTs. */
const secretShaped = /\bmq_(?:key|secret|public|imp|sess)_[A-Za-z0-9_-]+|\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/** Text with anything token-shaped replaced: an error message may quote what it was given. */
export function withoutSecrets(text: string): string {
  return text.includes("mq_") || text.includes("eyJ") ? text.replace(secretShaped, "[redacted]") : text;
}

/**
 * An error as one log field: its type, its message without the SQL of a failed statement (whose
 * values are written in), its stack frames, and its code when it has one. Nothing else the error
 * carries (a driver's `sql`, `parameters`, a request's `config`) is copied.
 */
export function serializeError(error: unknown): { type: string; message: string; stack?: string; code?: string } {
  if (!(error instanceof Error)) return { type: typeof error, message: withoutSecrets(String(error)) };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: withoutSecrets(loggableMessage(error)),
    stack: withoutSecrets(loggableError(error)),
    ...(typeof code === "string" ? { code } : {}),
  };
}

/**
 * A pino logger writing one JSON object per line to `destination` (stderr, synchronously, by
 * default: lines are never lost on exit and never interleave).
 */
export function createLogger(level: LogLevel, destination: DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError, error: serializeError },
      redact: { paths: redactPaths(), censor: "[redacted]" },
    },
    destination,
  );
}

/**
 * The process's logger. Modules that run outside a request (the webhook worker, the signing-key
 * refresh, the Redis connection, the transaction helpers) log here rather than being handed a
 * logger through every constructor; `startApp` sets its level from LOG_LEVEL before anything runs.
 */
export const logger: Logger = createLogger("info");

/** LOG_LEVEL, applied to the process's logger. */
export function setLogLevel(level: LogLevel): void {
  logger.level = level;
}
