import { afterEach } from "vitest";
import type { Credential } from "./client.js";
import type { TestApp } from "./test-app.js";
import { connectWs, waitUntil, type WsConnection } from "./ws-client.js";

/**
 * The WebSocket side of an auditEventAdded test file: `connect` opens a connection that is closed
 * after the test, and no test starts before every subscription of the one before has left the
 * server (`listeners`: the live subscribers the audit event sequencer has, server side).
 */
export function auditLiveConnections(app: () => TestApp): { connect(credential: Credential): WsConnection; listeners(): number } {
  const connections: WsConnection[] = [];
  const listeners = () => app().app.services.auditQuery.listenerCount();
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((connection) => connection.close()));
    await waitUntil(() => listeners() === 0, "every subscription of the test is gone");
  });
  return {
    connect(credential) {
      const connection = connectWs(app().wsUrl, credential);
      connections.push(connection);
      return connection;
    },
    listeners,
  };
}
