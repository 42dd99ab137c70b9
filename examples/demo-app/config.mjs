import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

/**
 * The demo app's settings, from the command line or the environment:
 *
 *   --credentials <file>   the JSON file `npm run bootstrap -- --out <file>` wrote (projectId, projectSecret, publicToken)
 *   MASQUERADE_URL          Masquerade's URL (default http://localhost:4000)
 *   MASQUERADE_PROJECT_ID, MASQUERADE_PROJECT_SECRET, MASQUERADE_PUBLIC_TOKEN   instead of --credentials
 *   PORT, HOST              where the demo app listens (default localhost:3000)
 */
export function loadDemoConfig(argv = process.argv.slice(2), env = process.env) {
  const { values } = parseArgs({ args: argv, options: { credentials: { type: "string" }, port: { type: "string" } } });
  const fromFile = values.credentials ? JSON.parse(readFileSync(values.credentials, "utf8")) : {};
  const config = {
    masqueradeUrl: env.MASQUERADE_URL || "http://localhost:4000",
    projectId: env.MASQUERADE_PROJECT_ID || fromFile.projectId,
    projectSecret: env.MASQUERADE_PROJECT_SECRET || fromFile.projectSecret,
    publicToken: env.MASQUERADE_PUBLIC_TOKEN || fromFile.publicToken,
    port: Number(values.port ?? env.PORT ?? 3000),
    host: env.HOST || "localhost",
  };
  const missing = ["projectId", "projectSecret", "publicToken"].filter((name) => typeof config[name] !== "string" || config[name] === "");
  if (missing.length > 0) {
    throw new Error(`the demo app needs ${missing.join(", ")}: pass --credentials bootstrap.json, or set MASQUERADE_PROJECT_ID, MASQUERADE_PROJECT_SECRET and MASQUERADE_PUBLIC_TOKEN`);
  }
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) throw new Error("PORT must be a whole number from 0 to 65535");
  return config;
}
