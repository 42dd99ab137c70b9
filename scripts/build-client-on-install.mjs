/**
 * npm's `prepare` (after `npm install` / `npm ci` at the root): compiles packages/client, so that
 * what imports @masquerade/client (examples/demo-app, your scripts) works right after an install,
 * not only after `npm run build`, `npm start` or `npm test`. It takes a second or two.
 *
 * Without TypeScript (`npm ci --omit=dev`) there is nothing to compile with: it says so and lets the
 * install succeed.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let tsc;
try {
  tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
} catch {
  console.warn("prepare: TypeScript is not installed (dev dependencies omitted); packages/client is not compiled");
  process.exit(0);
}
execFileSync(process.execPath, [tsc, "-p", join(root, "packages/client/tsconfig.json")], { stdio: "inherit" });
