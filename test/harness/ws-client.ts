import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { connectionParams, type Credential, type GraphQLErrorShape } from "./client.js";

/** One result of a subscription, as the server sent it in a `next` message. */
export interface WsResult<TData> {
  data?: TData | null;
  errors?: GraphQLErrorShape[];
}

/** How the server ended an operation. */
export type WsEnd =
  | { kind: "complete" }
  /** An `error` message for this operation (e.g. its credential stopped being valid). */
  | { kind: "error"; errors: GraphQLErrorShape[] }
  /** The socket closed under the operation. */
  | { kind: "closed"; code: number | undefined; reason: string };

export interface LiveSubscription<TData> {
  /** The next result the server sends; rejects when none arrives within `timeoutMs`. */
  next(timeoutMs?: number): Promise<WsResult<TData>>;
  /** Results received and not yet taken by `next()`. */
  readonly buffered: WsResult<TData>[];
  /** Settles when the server ends the operation (or the socket closes under it). */
  readonly ended: Promise<WsEnd>;
  /** Whether `ended` has settled. */
  isEnded(): boolean;
  /** Tells the server to stop (a graphql-ws `complete` from the client). */
  unsubscribe(): void;
}

export interface WsConnection {
  client: Client;
  subscribe<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
  ): LiveSubscription<TData>;
  /** A polite close: every subscription is completed, then the socket closes normally. */
  close(): Promise<void>;
  /** An abrupt drop: the TCP connection is destroyed with no close handshake. */
  terminate(): void;
}

/** Opens a graphql-ws connection to `wsUrl` carrying `credential` in its connectionParams (SPEC §1). */
export function connectWs(wsUrl: string, credential: Credential): WsConnection {
  let socket: WebSocket | null = null;
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: connectionParams(credential),
    retryAttempts: 0,
    lazy: true,
    on: { connected: (s) => void (socket = s as WebSocket) },
  });
  return {
    client,
    subscribe: (document, variables) => subscribeWith(client, document, variables),
    close: () => client.dispose() as Promise<void>,
    terminate: () => socket?.terminate(),
  };
}

function subscribeWith<TData, TVariables extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): LiveSubscription<TData> {
  const buffered: WsResult<TData>[] = [];
  const waiters: Array<(result: WsResult<TData>) => void> = [];
  let settled = false;
  let settle!: (end: WsEnd) => void;
  const ended = new Promise<WsEnd>((resolve) => {
    settle = (end) => {
      if (settled) return;
      settled = true;
      resolve(end);
    };
  });
  const unsubscribe = client.subscribe<TData>(
    { query: print(document), variables },
    {
      next: (value) => {
        const result = value as WsResult<TData>;
        const waiter = waiters.shift();
        if (waiter) waiter(result);
        else buffered.push(result);
      },
      error: (error: unknown) => {
        if (Array.isArray(error)) settle({ kind: "error", errors: error as GraphQLErrorShape[] });
        else {
          const event = error as { code?: number; reason?: string; message?: string };
          settle({ kind: "closed", code: event.code, reason: event.reason ?? event.message ?? String(error) });
        }
      },
      complete: () => settle({ kind: "complete" }),
    },
  );
  return {
    get buffered() {
      return buffered;
    },
    ended,
    isEnded: () => settled,
    unsubscribe,
    next(timeoutMs = 5_000) {
      const ready = buffered.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise<WsResult<TData>>((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(deliver);
          if (index >= 0) waiters.splice(index, 1);
          reject(new Error(`no subscription result within ${timeoutMs} ms`));
        }, timeoutMs);
        const deliver = (result: WsResult<TData>) => {
          clearTimeout(timer);
          resolve(result);
        };
        waiters.push(deliver);
      });
    },
  };
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. For server-side effects of socket events. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `promise`, or a failure naming `what` after `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
