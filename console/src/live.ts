import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";

/**
 * graphql-ws to the server's own /graphql (the same path, ws: or wss: as the page), with the
 * member's key in connectionParams: never in the URL.
 */
export function createLiveClient(apiKey: string, onStateChange: (state: LiveState) => void, onRefused: () => void): Client {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  return createClient({
    url,
    connectionParams: { authorization: `Bearer ${apiKey}` },
    lazy: true,
    retryAttempts: 5,
    shouldRetry: (event) => {
      const code = (event as { code?: number } | undefined)?.code;
      return code !== 4401 && code !== 4403;
    },
    on: {
      connecting: () => onStateChange("connecting"),
      connected: () => onStateChange("live"),
      closed: (event) => {
        onStateChange("closed");
        // 4401/4403: the server no longer accepts the key (rotated, member disabled).
        const code = (event as { code?: number } | undefined)?.code;
        if (code === 4401 || code === 4403) onRefused();
      },
    },
  });
}

export type LiveState = "connecting" | "live" | "closed";

/**
 * Subscribes with a typed document; returns the unsubscribe. `variables` may be a function: it is
 * called each time the operation is sent, on the first connection and again on each reconnect
 * (graphql-ws serialises the payload anew for each attempt), so a resumable subscription can say
 * where it stopped.
 */
export function subscribe<TResult, TVariables extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables | (() => TVariables),
  onData: (data: TResult) => void,
  onError: (message: string, code: string | undefined) => void,
): () => void {
  type Failure = { message: string; extensions?: { code?: unknown } };
  const report = (errors: readonly Failure[]) => {
    const code = errors.map((error) => error.extensions?.code).find((value): value is string => typeof value === "string");
    onError(errors.map((error) => error.message).join("; "), code);
  };
  const query = print(document);
  const payload = typeof variables === "function" ? { query, get variables() { return variables(); } } : { query, variables };
  return client.subscribe<TResult>(
    payload,
    {
      next: (result) => {
        if (result.errors?.length) report(result.errors as readonly Failure[]);
        else if (result.data) onData(result.data);
      },
      // An "error" message of the protocol is a list of GraphQL errors; anything else ended the socket.
      error: (error) => (Array.isArray(error) ? report(error as Failure[]) : onError(error instanceof Error ? error.message : "The live connection closed.", undefined)),
      complete: () => undefined,
    },
  );
}
