import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { jsonResponse, type Route } from "../http/graphql-http-handler.js";
import { listen } from "../http/lifecycle.js";
import type { Metrics } from "./metrics.js";

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The METRICS_PORT listener: `/metrics` in the Prometheus text format, and the main port's own
 * `/healthz` and `/readyz` (the same routes), for a scraper or probe kept off the public port.
 * It stays up while the main port drains, so that `/readyz` can say so.
 */
export async function startMetricsServer(options: { port: number; metrics: Metrics; routes: ReadonlyMap<string, Route>; logError: (error: unknown) => void }): Promise<MetricsServer> {
  const { metrics, routes, logError } = options;
  metrics.collectProcessDefaults();
  const serveMetrics = async (res: ServerResponse) => {
    try {
      const text = await metrics.text();
      res.writeHead(200, { "content-type": metrics.contentType, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
      res.end(text);
    } catch (error) {
      logError(error);
      if (!res.headersSent) jsonResponse(res, 500, { error: "The metrics could not be collected." });
    }
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    const route = routes.get(path ?? "/");
    if (path === "/metrics") void serveMetrics(res);
    else if (route) route(req, res);
    else jsonResponse(res, 404, { error: "Not found. This port serves /metrics, /healthz and /readyz." });
  });
  const port = await listen(server, options.port, "METRICS_PORT");
  return {
    port,
    close: async () => {
      // A scraper's keep-alive connection would hold close() open: nothing is worth waiting for here.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
