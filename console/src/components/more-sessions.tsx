import type { SessionPages } from "./use-session-pages.ts";

/** Below a session list: how many are shown and, while the server has more, "More sessions". */
export function MoreSessions(props: { pages: SessionPages; what: string }) {
  const { pages } = props;
  // Nothing to say while everything fits on one page.
  if (!pages.hasMore && pages.sessions.length <= pages.pageSize) return null;
  return (
    <div class="row pager" aria-busy={pages.loadingMore}>
      <span class="muted" role="status">
        {pages.hasMore ? `Showing the newest ${pages.sessions.length} ${props.what}.` : `Showing all ${pages.sessions.length} ${props.what}.`}
      </span>
      {pages.hasMore && (
        <button type="button" disabled={!pages.mayLoadMore} onClick={pages.loadMore}>
          More sessions
        </button>
      )}
    </div>
  );
}
