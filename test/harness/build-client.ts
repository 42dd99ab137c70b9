import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../..");
const builtKey = "MASQUERADE_TEST_CLIENT_BUILT";

/**
 * Vitest global setup: compiles packages/client (`npm run build --workspace @masquerade/client`),
 * so that the tests import, serve to Chromium and pack the compiled SDK, exactly what a consumer
 * gets, on a fresh clone too.
 */
export default async function buildClient(): Promise<void> {
  // Both database projects list this setup; one build per run is enough.
  if (process.env[builtKey] === "1") return;
  try {
    await run("npm", ["run", "build", "--workspace", "@masquerade/client", "--silent"], { cwd: repoRoot, timeout: 120_000 });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`building packages/client failed:\n${stdout}${stderr}`);
  }
  process.env[builtKey] = "1";
}

