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

  write(value: StoredSession): void {
    const stored: StoredJson = { v: 1, ...value, session: { ...value.session, expiresAt: value.session.expiresAt.toISOString() } };
    this.storage.setItem(this.key, JSON.stringify(stored));
  }

  clear(): void {
    try {
      this.storage.removeItem(this.key);
    } catch {
      // storage unavailable: nothing is kept there anyway
    }
  }
}
