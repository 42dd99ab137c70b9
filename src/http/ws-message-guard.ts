import type { WebSocketServer } from "ws";

/** Message types of graphql-transport-ws that only a server sends. */
const serverOnlyTypes = new Set(["connection_ack", "next", "error"]);

/** graphql-transport-ws's close code for a message the protocol does not allow here. */
const invalidMessage = 4400;

/**
 * graphql-ws answers a client that sends a server-only message (`next`, `connection_ack`) by
 * throwing inside its handler: the socket closes as an internal error (4500) and a stack trace is
 * logged for what is only a misbehaving client. This closes such a socket as the protocol says
 * (4400, "Invalid message received") before graphql-ws sees the message.
 */
export function refuseServerOnlyMessages(server: WebSocketServer): void {
  server.on("connection", (socket) => {
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === "message" && isServerOnlyMessage(args[0])) {
        socket.close(invalidMessage, "Invalid message received");
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
  });
}

function isServerOnlyMessage(data: unknown): boolean {
  try {
    const text = Buffer.isBuffer(data) ? data.toString("utf8") : String(data);
    const message = JSON.parse(text) as { type?: unknown } | null;
    return typeof message?.type === "string" && serverOnlyTypes.has(message.type);
  } catch {
    return false; // not JSON: graphql-ws refuses it itself (4400)
  }
}
