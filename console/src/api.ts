import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

/** A GraphQL error (its `extensions.code`), or the server being unreachable (`NETWORK`). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const printed = new WeakMap<object, string>();
function queryText(document: TypedDocumentNode<unknown, unknown>): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

/**
 * Sends one typed operation to the server's own /graphql with the member's key in the
 * Authorization header (never in the URL), and returns its data or throws its first error.
 */
export async function request<TResult, TVariables>(apiKey: string, document: TypedDocumentNode<TResult, TVariables>, variables: TVariables): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: queryText(document as TypedDocumentNode<unknown, unknown>), variables }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError("The server cannot be reached.", "NETWORK");
  }
  let body: { data?: TResult | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError(`The server answered HTTP ${response.status} without a GraphQL result.`, "NETWORK");
  }
  const error = body.errors?.[0];
  if (error) throw new ApiError(error.message, error.extensions?.code ?? "INTERNAL_SERVER_ERROR");
  if (!body.data) throw new ApiError("The server answered without data.", "INTERNAL_SERVER_ERROR");
  return body.data;
}

/** What to tell a person about an error code (SPEC §5, §9), with the server's own message as detail. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const known: Record<string, string> = {
    FORBIDDEN: "Your role may not do this.",
    IMPERSONATION_DISABLED: "Impersonation is turned off for this project (see Policy).",
    APPROVAL_REQUIRED: "This impersonation needs an approved request first.",
    IMPERSONATION_LIMIT_REACHED: "The impersonator already has the most active sessions the policy allows.",
    IMPERSONATION_REQUEST_NOT_APPROVED: "The request is not approved (pending, denied, expired or already used).",
    IMPERSONATION_REQUEST_ALREADY_DECIDED: "Someone has already decided this request.",
    IMPERSONATION_REQUEST_NOT_FOUND: "The request was not found.",
    RATE_LIMITED: "Too many requests: wait a moment and try again.",
    NETWORK: "The server cannot be reached.",
  };
  const summary = known[error.code];
  return summary ? `${summary} (${error.code}: ${error.message})` : `${error.message} (${error.code})`;
}
