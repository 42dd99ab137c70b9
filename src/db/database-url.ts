import { SettingError } from "../errors/setting-error.js";

export type DatabaseKind = "sqlite" | "postgresql";

export interface DatabaseTarget {
  kind: DatabaseKind;
  /** SQLite file path (or ":memory:"), or the PostgreSQL connection URL. */
  location: string;
}

/** What DATABASE_URL names: `sqlite:<path>` or a `postgres://` / `postgresql://` URL. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith("sqlite:")) {
    const location = url.slice("sqlite:".length).replace(/^\/\//, "");
    if (!location) throw new SettingError("DATABASE_URL", 'names no SQLite file (expected "sqlite:<path>")');
    return { kind: "sqlite", location };
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    // The message does not repeat the URL: it may hold a password.
    if (!URL.canParse(url)) throw new SettingError("DATABASE_URL", "is not a valid postgres:// URL");
    return { kind: "postgresql", location: url };
  }
  throw new SettingError("DATABASE_URL", 'must be "sqlite:<path>" or a "postgres://" or "postgresql://" URL');
}
