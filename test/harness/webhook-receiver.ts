import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  RetryWebhookDeliveryDocument,
  RotateWebhookEndpointSecretDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
} from "../__generated__/graphql.js";

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received (what a signature covers). */
  body: string;
  /** The status this receiver answered with. */
  status: number;
}

export interface WebhookReceiver {
  /** The URL to register, e.g. http://127.0.0.1:PORT/hooks. */
  url: string;
  port: number;
  /** Every request so far, in arrival order (failed ones included). */
  requests: ReceivedWebhook[];
  /** Requests answered 2xx. */
  accepted(): ReceivedWebhook[];
  /** Answer the next `count` requests with `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** Fail every request until told otherwise (`failNext(0)` or `recover()`). */
  failAll(status?: number): void;
  recover(): void;
  /** Never answer (until `recover()`), to exercise timeouts. */
  hang(): void;
  /** Resolves once `count` requests have arrived in total; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** A local HTTP receiver on 127.0.0.1, port 0, that records what it is sent. */
export async function startWebhookReceiver(path = "/hooks"): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  let failuresLeft = 0;
  let failStatus = 500;
  let failForever = false;
  let hanging = false;
  const hung: ServerResponse[] = [];
  const waiters: Array<() => void> = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let status = 204;
      if (hanging) {
        status = 0;
      } else if (failForever || failuresLeft > 0) {
        if (failuresLeft > 0) failuresLeft--;
        status = failStatus;
      }
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status });
      for (const wake of waiters.splice(0)) wake();
      if (status === 0) {
        hung.push(res);
        return;
      }
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status < 300 ? "" : "receiver failure");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    failNext(count, status = 500) {
      failuresLeft = count;
      failStatus = status;
      failForever = false;
    },
    failAll(status = 500) {
      failForever = true;
      failStatus = status;
    },
    recover() {
      failuresLeft = 0;
      failForever = false;
      hanging = false;
      for (const res of hung.splice(0)) res.destroy();
    },
    hang() {
      hanging = true;
    },
    async waitForRequests(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} webhook requests, got ${requests.length} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return requests.slice(0, count);
    },
    async close() {
      for (const res of hung.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** GraphQL operations the webhook tests share (typed by codegen from test/operations/webhooks.graphql). */
export const webhookOps = {
  create: CreateWebhookEndpointDocument,
  list: WebhookEndpointsDocument,
  update: UpdateWebhookEndpointDocument,
  delete: DeleteWebhookEndpointDocument,
  rotate: RotateWebhookEndpointSecretDocument,
  deliveries: WebhookDeliveriesDocument,
  retry: RetryWebhookDeliveryDocument,
} as const;

export interface DeliveryNode {
  id: string;
  endpointId: string;
  projectId: string;
  auditEventId: string;
  eventType: string;
  status: "PENDING" | "SUCCEEDED" | "FAILED";
  attemptCount: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  completedAt: string | null;
  attempts: Array<{
    id: string;
    deliveryId: string;
    attemptNumber: number;
    startedAt: string;
    durationMs: number;
    statusCode: number | null;
    error: string | null;
    success: boolean;
  }>;
}

/** Polls `check` (real time) until it returns a truthy value; for work the server does after answering. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Real time passes (for "nothing more arrives" checks): a few poll intervals of the worker. */
export function settle(ms = 300): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
