import type { WebSocket, WebSocketServer } from "ws";

/**
 * Pings every WebSocket client at `intervalMs` and drops the ones that did not answer the previous
 * ping. The pings keep quiet subscriptions alive through load-balancer idle timeouts, and dead peers
 * (a laptop that went to sleep) stop holding subscriptions and their listeners.
 */
export function startHeartbeat(server: WebSocketServer, intervalMs: number): () => void {
  const answered = new WeakSet<WebSocket>();
  server.on("connection", (socket) => {
    answered.add(socket);
    socket.on("pong", () => answered.add(socket));
  });
  const timer = setInterval(() => {
    for (const socket of server.clients) {
      if (!answered.has(socket)) {
        socket.terminate();
        continue;
      }
      answered.delete(socket);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
