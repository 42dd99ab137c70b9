import { MasqueradeError } from "./errors.js";
import type { ImpersonationMode, MasqueradeSession, MasqueradeUser } from "./session.js";

/** What the browser keeps of an impersonation session (one per tab: see README on sessionStorage). */
export interface StoredSession {
  sessionToken: string;
  sessionJwt: string;
  session: MasqueradeSession;
  user: MasqueradeUser;
}

interface StoredJson {
  v: 1;
  sessionToken: string;
  sessionJwt: string;
  session: { sessionId: string; userId: string; projectId: string; impersonator: { id: string; email: string }; mode: ImpersonationMode; expiresAt: string };
  user: MasqueradeUser;
}

/** The part of the Web Storage API the store needs (sessionStorage, or anything alike). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A storage in memory: the session lasts as long as the client object (one page, or one Node process). */
export function memoryStorage(): KeyValueStorage {
  const values = new Map<string, string>();
  return { getItem: (key) => values.get(key) ?? null, setItem: (key, value) => void values.set(key, value), removeItem: (key) => void values.delete(key) };
}

/**
 * `sessionStorage` where there is a working one; otherwise (Node, a worker, or a browser that blocks
 * storage: reading `sessionStorage` then throws) a storage in memory, so that a session obtained
 * can always be kept.
 */
export function defaultStorage(): KeyValueStorage {
  try {
    const storage = globalThis.sessionStorage as KeyValueStorage | undefined;
    if (storage && takesWrites(storage)) return storage;
  } catch {
    // SecurityError: storage is blocked for this page.
  }
  return memoryStorage();
}

function takesWrites(storage: KeyValueStorage, key = "masquerade.probe"): boolean {
  try {
    storage.setItem(key, "1");
    storage.removeItem(key);
    return true;
  } catch {
    return false;
  }
}

/** Keeps the session under one key of a Web Storage; anything unreadable there counts as no session. */
export class SessionStore {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly key: string,
  ) {}

  read(): StoredSession | null {
    let raw: string | null;
    try {
      raw = this.storage.getItem(this.key);
    } catch {
      return null;
    }
    if (!raw) return null;
    try {
      const stored = JSON.parse(raw) as StoredJson;
      if (stored?.v !== 1 || typeof stored.sessionToken !== "string" || typeof stored.sessionJwt !== "string") return null;
      return { sessionToken: stored.sessionToken, sessionJwt: stored.sessionJwt, user: stored.user, session: { ...stored.session, expiresAt: new Date(stored.session.expiresAt) } };
    } catch {
      return null;
    }
  }

  /** Whether a session could be written now: checked before an impersonation token is used up for one. */
  usable(): boolean {
    return takesWrites(this.storage, `${this.key}.probe`);
  }

  /** Stores the session; a storage that refuses it is SESSION_STORAGE_UNAVAILABLE. */
  write(value: StoredSession): void {
    const stored: StoredJson = { v: 1, ...value, session: { ...value.session, expiresAt: value.session.expiresAt.toISOString() } };
    try {
      this.storage.setItem(this.key, JSON.stringify(stored));
    } catch (error) {
      throw storageUnavailable(error);
    }
  }

  clear(): void {
    try {
      this.storage.removeItem(this.key);
    } catch {
      // storage unavailable: nothing is kept there anyway
    }
  }
}

export function storageUnavailable(cause?: unknown): MasqueradeError {
  return new MasqueradeError("SESSION_STORAGE_UNAVAILABLE", "The impersonation session cannot be kept: the storage given to createBrowserClient refuses writes", { cause });
}
