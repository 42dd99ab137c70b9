import "reflect-metadata";
import { loadConfig, type Config } from "./config.js";
import { SettingError } from "./errors/setting-error.js";
import { logger, setLogLevel } from "./log/logger.js";
import type { App } from "./server.js";

// Logs are JSON lines on stderr (src/log/logger.ts), so that stdout can carry a pure NDJSON audit stream.
let app: App;
try {
  const config: Config = loadConfig();
  setLogLevel(config.logLevel);
  // Loaded once the settings are known to be valid, so that a bad one is reported at once.
  const { startApp } = await import("./server.js");
  app = await startApp({ config });
  const database = config.databaseUrl.split("://")[0]?.split(":")[0];
  logger.info({ publicUrl: app.publicUrl, database }, `Masquerade is ready at ${app.publicUrl}/graphql (database: ${database})`);
} catch (error) {
  if (error instanceof SettingError) {
    // A setting to fix is one plain line, without a stack, whatever LOG_LEVEL says (LOG_LEVEL may be
    // the very setting that is wrong): it is read by a person at a terminal or in `docker logs`,
    // and there is no service running whose log a collector would be parsing.
    process.stderr.write(`Masquerade cannot start: ${error.message}\n`);
  } else {
    // Anything else is a bug: one JSON line with its stack.
    logger.fatal({ err: error }, "Masquerade cannot start");
  }
  // Whatever start-up had opened (database pool, Redis, listener) must not keep the process alive.
  process.exit(1);
}

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `Received ${signal}; finishing in-flight requests...`);
    app.close().then(
      () => {
        logger.info("Stopped cleanly.");
        process.exit(0);
      },
      (error: unknown) => {
        logger.fatal({ err: error }, "Shutdown failed");
        process.exit(1);
      },
    );
  });
}
