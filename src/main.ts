import "reflect-metadata";
import { loadConfig, type Config } from "./config.js";
import { SettingError } from "./errors/setting-error.js";
import type { App } from "./server.js";

// Operational messages go to stderr, so that stdout can carry a pure NDJSON audit stream.
let app: App;
try {
  const config: Config = loadConfig();
  // Loaded once the settings are known to be valid, so that a bad one is reported at once.
  const { startApp } = await import("./server.js");
  app = await startApp({ config, log: (message) => console.error(message) });
  console.error(`Masquerade is ready at ${app.publicUrl}/graphql (database: ${config.databaseUrl.split("://")[0]?.split(":")[0]})`);
} catch (error) {
  // A setting to fix is one line, without a stack; anything else is a bug and keeps its stack.
  console.error(error instanceof SettingError ? `Masquerade cannot start: ${error.message}` : error);
  // Whatever start-up had opened (database pool, Redis, listener) must not keep the process alive.
  process.exit(1);
}

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
