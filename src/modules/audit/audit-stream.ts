import { closeSync, openSync, writeSync } from "node:fs";
import { SettingError } from "../../errors/setting-error.js";
import type { AuditEvent } from "./audit-event.entity.js";
import { toAuditEventMessage } from "./audit-message.js";

/**
 * The NDJSON stream of committed audit events for log shippers (AUDIT_LOG_FILE): one JSON object
 * per line, with the hash-chain fields so a shipper's copy can be checked too. A file is opened in
 * append mode and each line is written with one synchronous write, so it is in the file (in the
 * OS's hands) before the request that caused it answers, and lines never interleave. "-" or
 * "stdout" writes to standard output instead.
 */
export class AuditStream {
  private fd: number | null = null;
  private closed = false;

  constructor(private readonly target: string) {
    if (!isStdout(target)) this.fd = openForAppend(target);
  }

  /** An AuditLog step, after commit. */
  write(event: AuditEvent): void {
    if (this.closed) return;
    const line = `${JSON.stringify({ ...toAuditEventMessage(event), prevHash: event.prevHash, hash: event.hash })}\n`;
    if (this.fd === null) {
      process.stdout.write(line);
      return;
    }
    const bytes = Buffer.from(line, "utf8");
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset);
  }

  /** Closes the file (shutdown); later events are not written. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  describe(): string {
    return isStdout(this.target) ? "stdout" : this.target;
  }
}

/** Opens the stream's file, or says in one line why AUDIT_LOG_FILE cannot be used. */
function openForAppend(path: string): number {
  try {
    return openSync(path, "a", 0o640);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "its directory does not exist"
      : code === "EACCES" || code === "EPERM" ? "permission denied"
      : code === "EISDIR" ? "it is a directory"
      : code === "ENOTDIR" ? "a part of its path is not a directory"
      : (error as Error).message;
    throw new SettingError("AUDIT_LOG_FILE", `${path} cannot be opened for appending: ${reason}`);
  }
}

function isStdout(target: string): boolean {
  return target === "-" || target === "stdout";
}
