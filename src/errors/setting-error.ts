/**
 * A setting the server cannot start with: a value that is not valid (thrown by config.ts), or a
 * valid one that does not work (the port is in use, the database or Redis cannot be reached, the
 * audit file cannot be opened). main.ts prints its message as one line and exits with 1, without a
 * stack trace: it is the operator's mistake to fix, not a bug. The message names the variable and
 * never carries a credential (see redactUrl).
 */
export class SettingError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = "SettingError";
  }
}

/**
 * A URL as a message may show it: without its password (`user:***@`), or "(unparseable URL)".
 * postgres:// and redis:// URLs carry credentials in the user-info part.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
