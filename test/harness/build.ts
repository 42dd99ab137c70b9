import { execFile } from "node:child_process";
import { existsSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { tempDir } from "./test-app.js";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../..");

/**
 * Builds the server with `tsc -p tsconfig.build.json`, exactly as `npm run build:server` does, but into a
 * private directory: the suite runs a test file once per database project in parallel, and other
 * work may `rm -rf dist` at any time. The directory gets the repository's package type and
 * node_modules, so the output runs as it would from dist/. Throws unless `entry` (a path inside the
 * build) was emitted; type errors elsewhere still emit.
 */
export async function buildIntoTempDir(prefix: string, entry: string): Promise<{ path: string; entry: string; remove(): void }> {
  const build = tempDir(prefix);
  writeFileSync(join(build.path, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(join(repoRoot, "node_modules"), join(build.path, "node_modules"), "dir");
  const result = await run("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", build.path], { cwd: repoRoot }).catch((error) => error);
  const built = join(build.path, entry);
  if (!existsSync(built)) {
    build.remove();
    throw new Error(`build failed:\n${result.stdout ?? ""}${result.stderr ?? ""}`);
  }
  return { path: build.path, entry: built, remove: build.remove };
}
