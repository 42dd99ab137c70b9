import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { performance } from "node:perf_hooks";
import { guardedLookup, literalHostRefusal } from "./url-guard.js";

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** When false, refuse private literal hosts and DNS answers (production SSRF rule). */
  allowPrivate: boolean;
  /** Aborts the request (server shutdown); the outcome is then `aborted`. */
  signal?: AbortSignal;
}

export interface WebhookPostOutcome {
  /** True for a 2xx answer. */
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** The request was cut short by `signal` (not the receiver's fault). */
  aborted: boolean;
}

const userAgent = "Masquerade-Webhooks/1.0";
const maxErrorLength = 500;

/**
 * POSTs one webhook. Never throws: every failure (refused URL, DNS, connect, timeout, non-2xx) is an
 * outcome to record. Redirects are not followed (a 3xx is a failure), so a receiver cannot bounce
 * a delivery to an address the SSRF rule would refuse.
 */
export function postWebhook(post: WebhookPost): Promise<WebhookPostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const finish = (outcome: Omit<WebhookPostOutcome, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (onAbort) post.signal?.removeEventListener("abort", onAbort);
      resolve({ ...outcome, error: outcome.error ? outcome.error.slice(0, maxErrorLength) : null, durationMs: elapsed() });
    };

    let url: URL;
    try {
      url = new URL(post.url);
    } catch {
      finish({ ok: false, statusCode: null, error: "invalid URL", aborted: false });
      return;
    }
    if (!post.allowPrivate) {
      const refusal = literalHostRefusal(url.hostname);
      if (refusal) {
        finish({ ok: false, statusCode: null, error: `refused: ${refusal}`, aborted: false });
        return;
      }
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    let timedOut = false;
    const req = send(url, {
      method: "POST",
      headers: { ...post.headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(post.body)), "user-agent": userAgent },
      lookup: post.allowPrivate ? undefined : guardedLookup,
    });
    timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error(`timed out after ${post.timeoutMs} ms`));
    }, post.timeoutMs);
    onAbort = () => req.destroy(new Error("aborted: the server is shutting down"));
    post.signal?.addEventListener("abort", onAbort, { once: true });
    if (post.signal?.aborted) onAbort();

    req.on("response", (res: IncomingMessage) => {
      const statusCode = res.statusCode ?? 0;
      // The receiver's body is not kept (it may be large or sensitive): drain it and judge by status.
      res.resume();
      const done = () =>
        finish({
          ok: statusCode >= 200 && statusCode < 300,
          statusCode,
          error: statusCode >= 200 && statusCode < 300 ? null : `HTTP ${statusCode}`,
          aborted: false,
        });
      res.on("end", done);
      res.on("error", done);
      res.on("close", done);
    });
    req.on("error", (error: Error) => {
      const aborted = !timedOut && post.signal?.aborted === true;
      finish({ ok: false, statusCode: null, error: error.message || String(error), aborted });
    });
    req.end(post.body);
  });
}
