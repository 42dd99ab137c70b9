import { spawnSync } from "node:child_process";
import { isCi } from "./global-setup.js";

/**
 * Whether a host program runs here (`command args` exits 0). Tests that need one use
 * `it.skipIf(skipWithout(...))`: locally a missing program shows as a skipped test, named; with CI
 * set the test runs and fails, so a skipped check never passes silently there.
 */
export function hostRuns(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: "ignore", timeout: 10_000 });
  return result.status === 0;
}

export function skipWithout(available: boolean): boolean {
  return !available && !isCi();
}
