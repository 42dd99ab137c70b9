/**
 * Floor 1: a bare node:http handler that reads the request body and answers a small JSON. Nothing
 * in Masquerade can be faster than this on the same machine, load generator and connection count.
 */
import { createServer } from "node:http";

const body = JSON.stringify({ data: { hello: "world" } });
const length = Buffer.byteLength(body);

const server = createServer((req, res) => {
  req.on("data", () => undefined);
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": length });
    res.end(body);
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
