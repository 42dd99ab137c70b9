import { useRef, useState } from "preact/hooks";
import { ConsoleSessionsDocument, type ConsoleSessionFieldsFragment, type ConsoleSessionsQuery } from "../generated/graphql.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";

/** The server's largest page (maxPageSize in src/graphql/connection.ts). */
const maxRowsPerLoad = 500;

export interface SessionPages {
  /** Every session loaded so far, newest first. */
  sessions: ConsoleSessionFieldsFragment[];
  /** Whether the first load has answered (with sessions or none). */
  loaded: boolean;
  loading: boolean;
  error: string | undefined;
  /** Loads the list again, as far down as the reader has paged (see below). */
  reload(): void;
  pageSize: number;
  /** The server has sessions after the last one loaded. */
  hasMore: boolean;
  /** A "More sessions" request is on its way. */
  loadingMore: boolean;
  /** "More sessions" may be pressed now. */
  mayLoadMore: boolean;
  loadMore(): void;
}

/**
 * Impersonation sessions of the project (narrowed by `filter`), `pageSize` at a time: the first
 * page, then one more page from the last one's `endCursor` each time the reader asks.
 *
 * A reload (Refresh, a revocation, the live feed) loads the list again from the top, as many rows
 * as the reader had paged to, in one request: the pages already opened stay open, with no row
 * twice and none left out, and new sessions appear at the top. Resetting to the first page instead
 * would undo "More" on every exchange or revocation anywhere in the project, which is exactly when
 * there are too many sessions for one page. Past the server's largest page the reload stops there
 * and "More" goes on from it.
 *
 * A page "More" fetched belongs to the load it continues: once a newer load has answered, the
 * older load's pages are dropped, never appended to the newer one (its rows are in the newer load,
 * which asked for them).
 */
export function useSessionPages(filter: { userId?: string; activeOnly?: boolean }, pageSize: number): SessionPages {
  const { call, project } = useConsole();
  const key = JSON.stringify([project.id, filter.userId ?? null, filter.activeOnly ?? null]);
  /** How many rows the next load asks for, for the list `key` names: what the reader has paged to. */
  const extent = useRef({ key, rows: pageSize });
  const first = useLoad(() => {
    if (extent.current.key !== key) extent.current = { key, rows: pageSize };
    return call(ConsoleSessionsDocument, { projectId: project.id, ...filter, first: Math.min(extent.current.rows, maxRowsPerLoad) });
  }, [key]);
  /** The pages "More" added to the load `base` answered. */
  const [more, setMore] = useState<{ base: ConsoleSessionsQuery; sessions: ConsoleSessionFieldsFragment[]; endCursor: string | null; hasNextPage: boolean } | null>(null);
  const paging = useAction();
  const base = first.data;
  /** The load on screen when a "More" answers, which may be newer than the one it continued. */
  const shown = useRef(base);
  shown.current = base;
  const later = base && more?.base === base ? more : null;
  const sessions = [...(base?.sessions.edges.map((edge) => edge.node) ?? []), ...(later?.sessions ?? [])];
  const pageInfo = later ?? base?.sessions.pageInfo;

  const loadMore = () => {
    const after = pageInfo?.endCursor;
    if (!base || !pageInfo?.hasNextPage || !after) return;
    // A reload that starts before this page answers asks for it too.
    extent.current = { key, rows: sessions.length + pageSize };
    void paging.run(async () => {
      const next = await call(ConsoleSessionsDocument, { projectId: project.id, ...filter, first: pageSize, after });
      if (shown.current !== base) return;
      const added = next.sessions.edges.map((edge) => edge.node);
      setMore((previous) => ({ base, sessions: [...(previous?.base === base ? previous.sessions : []), ...added], ...next.sessions.pageInfo }));
    });
  };

  return {
    sessions,
    loaded: base !== undefined,
    loading: first.loading,
    error: first.error ?? paging.error,
    reload: first.reload,
    pageSize,
    hasMore: pageInfo?.hasNextPage ?? false,
    loadingMore: paging.busy,
    // While a load is on its way, the cursor on screen is the older load's.
    mayLoadMore: !paging.busy && !first.loading,
    loadMore,
  };
}
