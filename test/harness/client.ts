import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type DocumentNode } from "graphql";

export type Credential =
  | { kind: "member"; apiKey: string }
  | { kind: "backend"; projectId: string; secret: string }
  | { kind: "frontend"; publicToken: string }
  | { kind: "none" }
  | { kind: "raw"; headers: Record<string, string> };

export interface GraphQLErrorShape {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T> {
  status: number;
  data: T | null | undefined;
  errors: GraphQLErrorShape[] | undefined;
  headers: Headers;
}

export const asMember = (apiKey: string): Credential => ({ kind: "member", apiKey });
export const asBackend = (projectId: string, secret: string): Credential => ({ kind: "backend", projectId, secret });
export const asFrontend = (publicToken: string): Credential => ({ kind: "frontend", publicToken });
export const anonymous: Credential = { kind: "none" };

export function credentialHeaders(credential: Credential): Record<string, string> {
  switch (credential.kind) {
    case "member":
      return { authorization: `Bearer ${credential.apiKey}` };
    case "backend":
      return { authorization: `Basic ${Buffer.from(`${credential.projectId}:${credential.secret}`).toString("base64")}` };
    case "frontend":
      return { "x-public-token": credential.publicToken };
    case "raw":
      return credential.headers;
    case "none":
      return {};
  }
}

/** graphql-ws connectionParams for a credential (SPEC §1). */
export function connectionParams(credential: Credential): Record<string, string> {
  switch (credential.kind) {
    case "member":
    case "backend":
      return { authorization: credentialHeaders(credential).authorization! };
    case "frontend":
      return { publicToken: credential.publicToken };
    default:
      return {};
  }
}

/** Sends one GraphQL operation over HTTP as `credential`. */
export async function gql<TData = any, TVariables = Record<string, unknown>>(
  url: string,
  credential: Credential,
  query: string | DocumentNode | TypedDocumentNode<TData, TVariables>,
  variables?: TVariables,
  extraHeaders: Record<string, string> = {},
): Promise<GraphQLResponse<TData>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...credentialHeaders(credential), ...extraHeaders },
    body: JSON.stringify({ query: typeof query === "string" ? query : print(query), variables }),
  });
  const text = await response.text();
  let body: { data?: TData | null; errors?: GraphQLErrorShape[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON response (${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
}

/** The data of a successful operation; throws with the errors otherwise. */
export async function gqlOk<TData = any, TVariables = Record<string, unknown>>(
  url: string,
  credential: Credential,
  query: string | DocumentNode | TypedDocumentNode<TData, TVariables>,
  variables?: TVariables,
): Promise<TData> {
  const result = await gql(url, credential, query, variables);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL operation failed: ${JSON.stringify(result.errors)}`);
  }
  return result.data;
}

/** The error code of a failed operation (the first error's extensions.code). */
export async function gqlErrorCode<TVariables = Record<string, unknown>>(
  url: string,
  credential: Credential,
  query: string | DocumentNode | TypedDocumentNode<any, TVariables>,
  variables?: TVariables,
): Promise<string | undefined> {
  const result = await gql(url, credential, query, variables);
  if (!result.errors?.length) throw new Error(`expected an error, got data ${JSON.stringify(result.data)}`);
  return result.errors[0]!.extensions?.code;
}
