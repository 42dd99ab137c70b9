/**
 * The codes a MasqueradeError carries: the server's contract codes (SPEC §5 and §9), passed through
 * from a GraphQL error's `extensions.code`, and the SDK's own.
 */
export type MasqueradeErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "IMPERSONATION_DISABLED"
  | "FRONTEND_AUTHENTICATION_DISABLED"
  | "IMPERSONATION_TOKEN_NOT_FOUND"
  | "IMPERSONATION_TOKEN_EXPIRED"
  | "IMPERSONATION_TOKEN_ALREADY_USED"
  | "SESSION_NOT_FOUND"
  | "SESSION_EXPIRED"
  | "SESSION_REVOKED"
  | "APPROVAL_REQUIRED"
  | "IMPERSONATION_REQUEST_NOT_FOUND"
  | "IMPERSONATION_REQUEST_NOT_APPROVED"
  | "IMPERSONATION_REQUEST_ALREADY_DECIDED"
  | "IMPERSONATION_LIMIT_REACHED"
  | "RATE_LIMITED"
  | "INTERNAL_SERVER_ERROR"
  /** `requireWritable` refused a read-only impersonation (SPEC §9, §11). */
  | "IMPERSONATION_READ_ONLY"
  /** The server could not be reached, or did not answer with GraphQL (the message says which). */
  | "NETWORK_ERROR"
  /** The browser client's storage refuses writes, so a session could not be kept: the token was not used. */
  | "SESSION_STORAGE_UNAVAILABLE"
  /** Anything else the server sent (a protocol code such as GRAPHQL_VALIDATION_FAILED is kept as is). */
  | (string & {});

/** Every failure the SDK reports. `code` is stable; `message` is for people. */
export class MasqueradeError extends Error {
  override readonly name = "MasqueradeError";

  constructor(
    readonly code: MasqueradeErrorCode,
    message: string = defaultMessages[code] ?? code,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }

  /** The HTTP status of the response the error came from, when there was one. */
  readonly status: number | undefined;
}

const defaultMessages: Partial<Record<string, string>> = {
  IMPERSONATION_READ_ONLY: "This is a read-only impersonation: the application refuses changes made through it",
  SESSION_NOT_FOUND: "No such session, or a session JWT that does not verify",
  SESSION_EXPIRED: "The session has expired",
  SESSION_REVOKED: "The session was revoked",
};

export function isMasqueradeError(error: unknown): error is MasqueradeError {
  return error instanceof MasqueradeError;
}
