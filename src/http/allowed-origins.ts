import type { Clock } from "../clock.js";

export interface AllowedOriginsOptions {
  /** CORS_ORIGINS: always allowed. */
  configured: readonly string[];
  /** Every project's login redirect URL, read from the database. */
  loadProjectUrls: () => Promise<string[]>;
  clock: Clock;
  log: (message: string, error: unknown) => void;
  /** After a reload, an unknown origin is refused without asking the database again for this long. */
  missReloadIntervalMs?: number;
  /** Once the set is this old, the next request reloads it in the background (a changed redirect URL drops its old origin). */
  maxAgeMs?: number;
}

/**
 * The browser origins allowed to call /graphql (SPEC §7): CORS_ORIGINS and the origins of the
 * projects' login redirect URLs, held in memory so that no request pays a query for it.
 *
 * Staleness is bounded without a query per request: a project created on this instance is added at
 * once; one created on another instance is found by the first request from its origin that arrives
 * more than `missReloadIntervalMs` (5 s) after the previous reload, which reloads the set (one
 * query, shared by concurrent misses; a flood of unknown origins costs at most one query per
 * interval). A known origin is answered from memory, and the set is refreshed in the background
 * once it is older than `maxAgeMs` (60 s), so an origin no project uses any more stops being
 * allowed within about a minute of traffic.
 */
export class AllowedOrigins {
  private readonly configured: ReadonlySet<string>;
  private readonly missReloadIntervalMs: number;
  private readonly maxAgeMs: number;
  private projectOrigins = new Set<string>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private reloading: Promise<void> | null = null;
  /** Origins added while a reload is in flight: its result may predate them. */
  private addedDuringReload: Set<string> | null = null;

  constructor(private readonly options: AllowedOriginsOptions) {
    this.configured = new Set(options.configured);
    this.missReloadIntervalMs = options.missReloadIntervalMs ?? 5_000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
  }

  /** Loads the projects' origins; at start-up, so that the first requests need no query. */
  load(): Promise<void> {
    return this.reload();
  }

  /** A project's redirect URL, allowed from now on (its project was just created here). */
  add(loginRedirectUrl: string): void {
    const origin = originOf(loginRedirectUrl);
    if (!origin) return;
    this.projectOrigins.add(origin);
    this.addedDuringReload?.add(origin);
  }

  async allows(origin: string): Promise<boolean> {
    if (this.configured.has(origin)) return true;
    const age = this.options.clock.now().getTime() - this.loadedAt;
    if (this.projectOrigins.has(origin)) {
      if (age >= this.maxAgeMs) void this.reload().catch(() => undefined);
      return true;
    }
    if (age < this.missReloadIntervalMs) return false;
    await this.reload().catch(() => undefined);
    return this.projectOrigins.has(origin);
  }

  private reload(): Promise<void> {
    return (this.reloading ??= (async () => {
      const startedAt = this.options.clock.now().getTime();
      const added = (this.addedDuringReload = new Set());
      try {
        const origins = new Set((await this.options.loadProjectUrls()).map(originOf).filter((origin) => origin !== null));
        for (const origin of added) origins.add(origin);
        this.projectOrigins = origins;
      } catch (error) {
        // Keep the origins we had; the failed attempt still counts, so a database outage is not
        // asked again by every request from an unknown origin.
        this.options.log("could not reload the allowed browser origins", error);
        throw error;
      } finally {
        this.loadedAt = startedAt;
        this.addedDuringReload = null;
        this.reloading = null;
      }
    })());
  }
}

/** The origin a browser sends for pages under `url`, or null for a URL that has none. */
export function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}
