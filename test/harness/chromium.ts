import { existsSync } from "node:fs";
import { describe, it } from "vitest";
import { chromiumPath, isCi } from "./global-setup.js";

/**
 * Whether this file's browser tests can run. Without Chromium they are skipped (the run's banner
 * says so), except under CI, where a test of `suite` fails instead: a browser test never passes by
 * not running. Call it at the top level of the file.
 */
export function chromiumForBrowserTests(suite: string): boolean {
  const executablePath = chromiumPath();
  const available = existsSync(executablePath);
  if (!available && isCi()) {
    describe(suite, () => {
      it("needs Chromium", () => {
        throw new Error(`CI is set and the browser tests need Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`);
      });
    });
  }
  return available;
}
