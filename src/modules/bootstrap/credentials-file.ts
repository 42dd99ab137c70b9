import { open, stat, unlink, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";

/** The file could not be created: it exists, or its directory is missing or not writable. Nothing was written. */
export class CredentialsFileRefused extends Error {}

/**
 * A credentials file created empty, owner-only, before anything secret exists, so that a run that
 * cannot keep its secrets is refused before it creates them. `'wx'` is O_CREAT|O_EXCL: atomic,
 * never truncates, never follows a symlink planted at the path; mode 0600 (a umask can only
 * tighten it).
 */
export class CredentialsFile {
  private constructor(
    readonly path: string,
    private handle: FileHandle | undefined,
    private readonly identity: { dev: number; ino: number },
  ) {}

  static async create(path: string): Promise<CredentialsFile> {
    const absolute = resolve(path);
    try {
      const handle = await open(absolute, "wx", 0o600);
      const { dev, ino } = await handle.stat();
      return new CredentialsFile(absolute, handle, { dev, ino });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") {
        throw new CredentialsFileRefused(`Refusing to overwrite ${absolute}: it already exists (it may hold the only copy of earlier credentials). Nothing was changed; choose another --out path.`);
      }
      throw new CredentialsFileRefused(`Cannot create ${absolute} (${code ?? String(error)}). Nothing was changed.`);
    }
  }

  /** Writes the content and makes it durable; throws if any step fails (e.g. ENOSPC). */
  async write(content: string): Promise<void> {
    const handle = this.handle!;
    this.handle = undefined;
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * Removes the file this run created (empty, or partly written after a failed write), and only
   * that one: if the path now names another file, it is left alone. Returns false if it could not.
   */
  async discard(): Promise<boolean> {
    try {
      await this.handle?.close();
      this.handle = undefined;
      const current = await stat(this.path);
      if (current.dev === this.identity.dev && current.ino === this.identity.ino) await unlink(this.path);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ENOENT";
    }
  }
}
