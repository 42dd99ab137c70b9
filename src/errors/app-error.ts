import { GraphQLError } from "graphql";
import { defaultMessage, type ErrorCode } from "./codes.js";

/** The only error services throw on purpose: its code and message reach the client as they are. */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string, extra?: Record<string, unknown>) {
    super(message ?? defaultMessage(code), { extensions: { code, ...extra } });
    this.code = code;
    this.name = "AppError";
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
