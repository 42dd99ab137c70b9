import { ConsoleRevokeSessionDocument } from "../generated/graphql.ts";
import { MoreSessions } from "../components/more-sessions.tsx";
import { SessionTable } from "../components/session-table.tsx";
import { useLiveEvents } from "../components/use-live-events.ts";
import { useSessionPages } from "../components/use-session-pages.ts";
import { useAction, useConsole } from "../console-context.tsx";
import { ErrorNote, Loading, Page } from "../ui.tsx";

const pageSize = 50;

/**
 * Who is impersonating whom right now, a page at a time; kept current by the live feed of
 * exchanges and revocations. Each live event reloads the list from the top as far down as "More
 * sessions" has gone (useSessionPages): new sessions appear, ended ones go, opened pages stay.
 */
export function SessionsPage() {
  const { call } = useConsole();
  const pages = useSessionPages({ activeOnly: true }, pageSize);
  const revoke = useAction();
  const liveError = useLiveEvents({ actions: ["AuthenticateImpersonationToken", "RevokeSession"] }, true, () => pages.reload());
  return (
    <Page
      title="Active sessions"
      actions={
        <button type="button" onClick={pages.reload}>
          Refresh
        </button>
      }
    >
      <p class="muted">Impersonation sessions that are live now. The list follows the audit log as sessions start and end.</p>
      <ErrorNote error={pages.error ?? revoke.error ?? liveError} />
      <Loading loading={pages.loading && !pages.loaded} />
      {pages.loaded && pages.sessions.length === 0 && <p class="muted">Nobody is impersonating anyone right now.</p>}
      {pages.sessions.length > 0 && (
        <SessionTable
          caption="Active impersonation sessions"
          sessions={pages.sessions}
          busy={revoke.busy}
          onRevoke={(session) => void revoke.run(() => call(ConsoleRevokeSessionDocument, { sessionId: session.id })).then(() => pages.reload())}
        />
      )}
      <MoreSessions pages={pages} what="active sessions" />
    </Page>
  );
}
