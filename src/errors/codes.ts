/** Every error code a client may see (SPEC §5). One line of doc each. */
export const ErrorCode = {
  /** No credential, or a credential that does not match anything, or a disabled member. */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /** A valid credential that may not do this. */
  FORBIDDEN: "FORBIDDEN",
  /** The arguments are malformed or out of range. */
  BAD_USER_INPUT: "BAD_USER_INPUT",
  /** The named project, member or user does not exist (or is not visible to the caller). */
  NOT_FOUND: "NOT_FOUND",
  /** The project's policy does not allow impersonation. */
  IMPERSONATION_DISABLED: "IMPERSONATION_DISABLED",
  /** The frontend tried to exchange a token but the policy does not allow it. */
  FRONTEND_AUTHENTICATION_DISABLED: "FRONTEND_AUTHENTICATION_DISABLED",
  /** No such token for this project (also: voided, or another project's). */
  IMPERSONATION_TOKEN_NOT_FOUND: "IMPERSONATION_TOKEN_NOT_FOUND",
  /** The token's time to live has passed. */
  IMPERSONATION_TOKEN_EXPIRED: "IMPERSONATION_TOKEN_EXPIRED",
  /** The token was already exchanged for a session. */
  IMPERSONATION_TOKEN_ALREADY_USED: "IMPERSONATION_TOKEN_ALREADY_USED",
  /** No such session for this caller, or a JWT that does not verify. */
  SESSION_NOT_FOUND: "SESSION_NOT_FOUND",
  /** The session's hour is over. */
  SESSION_EXPIRED: "SESSION_EXPIRED",
  /** The session was revoked. */
  SESSION_REVOKED: "SESSION_REVOKED",
  /** Impersonating this user needs an approved request (a protected user, or the policy's requireApproval; SPEC §9). */
  APPROVAL_REQUIRED: "APPROVAL_REQUIRED",
  /** No such impersonation request for this caller (another member's, another project's, unknown). */
  IMPERSONATION_REQUEST_NOT_FOUND: "IMPERSONATION_REQUEST_NOT_FOUND",
  /** The request is not APPROVED (pending, denied, expired or already used): no token from it. */
  IMPERSONATION_REQUEST_NOT_APPROVED: "IMPERSONATION_REQUEST_NOT_APPROVED",
  /** The request was already approved, denied or expired: it cannot be decided again. */
  IMPERSONATION_REQUEST_ALREADY_DECIDED: "IMPERSONATION_REQUEST_ALREADY_DECIDED",
  /** The impersonator already has as many active sessions as the policy allows (SPEC §9). */
  IMPERSONATION_LIMIT_REACHED: "IMPERSONATION_LIMIT_REACHED",
  /** Too many requests from this caller; retry later. */
  RATE_LIMITED: "RATE_LIMITED",
  /** Something failed on our side; details are in the server log only. */
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const defaultMessages: Record<ErrorCode, string> = {
  UNAUTHENTICATED: "Missing or invalid credentials.",
  FORBIDDEN: "This credential may not perform this operation.",
  BAD_USER_INPUT: "Invalid input.",
  NOT_FOUND: "Not found.",
  IMPERSONATION_DISABLED: "Impersonation is disabled for this project.",
  FRONTEND_AUTHENTICATION_DISABLED: "Frontend authentication of impersonation tokens is disabled for this project.",
  IMPERSONATION_TOKEN_NOT_FOUND: "Impersonation token not found.",
  IMPERSONATION_TOKEN_EXPIRED: "Impersonation token has expired.",
  IMPERSONATION_TOKEN_ALREADY_USED: "Impersonation token has already been used.",
  SESSION_NOT_FOUND: "Session not found.",
  SESSION_EXPIRED: "Session has expired.",
  SESSION_REVOKED: "Session has been revoked.",
  APPROVAL_REQUIRED: "Impersonating this user requires an approved request.",
  IMPERSONATION_REQUEST_NOT_FOUND: "Impersonation request not found.",
  IMPERSONATION_REQUEST_NOT_APPROVED: "The impersonation request is not approved (pending, denied, expired or already used).",
  IMPERSONATION_REQUEST_ALREADY_DECIDED: "The impersonation request was already decided or has expired.",
  IMPERSONATION_LIMIT_REACHED: "The impersonator already has as many active sessions as the policy allows.",
  RATE_LIMITED: "Too many requests; retry later.",
  INTERNAL_SERVER_ERROR: "Internal server error.",
};

export function defaultMessage(code: ErrorCode): string {
  return defaultMessages[code];
}
