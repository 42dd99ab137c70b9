import "reflect-metadata";
import { loadConfig } from "./config.js";
import { startApp } from "./server.js";

const config = loadConfig();
// Operational messages go to stderr, so that stdout can carry a pure NDJSON audit stream.
const app = await startApp({ config, log: (message) => console.error(message) });
console.error(`Masquerade is ready at ${config.publicUrl}/graphql (database: ${config.databaseUrl.split("://")[0]?.split(":")[0]})`);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`Received ${signal}; finishing in-flight requests...`);
    app.close().then(
      () => {
        console.error("Stopped cleanly.");
        process.exit(0);
      },
      (error: unknown) => {
        console.error("Shutdown failed:", error);
        process.exit(1);
      },
    );
  });
}
