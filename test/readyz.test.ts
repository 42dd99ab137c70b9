import { print } from "graphql";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createReadinessCheck } from "../src/http/lifecycle.js";
import { TypenameDocument } from "./__generated__/graphql.js";
import { freePort, OwnRedis } from "./harness/own-redis.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import { waitUntil } from "./harness/ws-client.js";

/** SPEC §10: /readyz is 200 only when the database answers and (with REDIS_URL) Redis is connected; 503 with a reason otherwise and while draining. */

async function probe(baseUrl: string, path = "/readyz"): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}${path}`);
  return { status: response.status, body: await response.json() };
}

const ready = { status: 200, body: { status: "ready" } };
const notReady = (reason: string) => ({ status: 503, body: { status: "not ready", reason } });

describe("/readyz", () => {
  it("is ready on a healthy app, on PORT and on METRICS_PORT; /healthz stays liveness", async () => {
    const t = await startTestApp({ env: { METRICS_PORT: String(await freePort()) } });
    try {
      const metricsBase = `http://127.0.0.1:${t.app.metricsPort}`;
      expect(await probe(t.baseUrl)).toEqual(ready);
      expect(await probe(metricsBase)).toEqual(ready);
      expect(await probe(t.baseUrl, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
      expect(await probe(metricsBase, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    } finally {
      await t.close();
    }
  });

  it("answers 503 draining while the server closes (a request in flight holds the drain open)", async () => {
    const t = await startTestApp({ env: { METRICS_PORT: String(await freePort()) } });
    const metricsBase = `http://127.0.0.1:${t.app.metricsPort}`;
    const body = JSON.stringify({ query: print(TypenameDocument) });
    let closing: Promise<void> | undefined;
    let whileDraining: Array<{ status: number; body: unknown }> = [];
    const response = new Promise<number>((resolve, reject) => {
      // `Expect: 100-continue`: "100 Continue" comes once the server's handler has the request, the
      // moment to begin closing with the body still to come (as test/server.test.ts does).
      const req = request(
        { host: "127.0.0.1", port: t.app.port, path: "/graphql", method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), expect: "100-continue" } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.once("continue", () => {
        req.write(body.slice(0, 5), () => {
          // close() starts draining before it first yields; the main port stops listening, the
          // metrics port stays up until the very end and says why this instance is not ready.
          closing = t.close();
          void Promise.all([probe(metricsBase), probe(metricsBase, "/healthz")])
            .then((answers) => (whileDraining = answers))
            .finally(() => req.end(body.slice(5)));
        });
      });
      req.flushHeaders();
    });
    expect(await response).toBe(200);
    expect(whileDraining).toEqual([notReady("draining"), { status: 503, body: { status: "draining" } }]);
    await closing;
    await expect(fetch(`${metricsBase}/readyz`)).rejects.toThrow();
  });

  it("counts the database unreachable when its ping does not answer in time", async () => {
    const check = createReadinessCheck({ draining: () => false, pingDatabase: () => new Promise(() => undefined), pingTimeoutMs: 20 });
    expect(await check()).toEqual({ ready: false, reason: "database unreachable" });
    const failing = createReadinessCheck({ draining: () => false, pingDatabase: () => Promise.reject(new Error("connection refused")) });
    expect(await failing()).toEqual({ ready: false, reason: "database unreachable" });
  });
});

describe("/readyz with REDIS_URL", () => {
  let redis: OwnRedis;
  let t: TestApp;

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    t = await startTestApp({ env: { REDIS_URL: redis.url } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it("says redis disconnected while its Redis is down, and ready again once it is back", async () => {
    // The pub/sub logs each lost connection once: expected here, not worth printing.
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      expect(await probe(t.baseUrl)).toEqual(ready);
      await redis.stop();
      await waitUntil(async () => (await probe(t.baseUrl)).status === 503, "/readyz notices Redis is gone", 15_000);
      expect(await probe(t.baseUrl)).toEqual(notReady("redis disconnected"));
      // Liveness is not readiness: the process is fine.
      expect(await probe(t.baseUrl, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
      await redis.start();
      await waitUntil(async () => (await probe(t.baseUrl)).status === 200, "/readyz notices Redis is back", 15_000);
      expect(await probe(t.baseUrl)).toEqual(ready);
    } finally {
      logged.mockRestore();
    }
  }, 60_000);
});
