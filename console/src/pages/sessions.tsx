import { ConsoleRevokeSessionDocument, ConsoleSessionsDocument } from "../generated/graphql.ts";
import { SessionTable } from "../components/session-table.tsx";
import { useLiveEvents } from "../components/use-live-events.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { ErrorNote, Loading, Page } from "../ui.tsx";

/** Who is impersonating whom right now; kept current by the live feed of exchanges and revocations. */
export function SessionsPage() {
  const { call, project } = useConsole();
  const sessions = useLoad(() => call(ConsoleSessionsDocument, { projectId: project.id, activeOnly: true, first: 100 }), [project.id]);
  const revoke = useAction();
  const liveError = useLiveEvents({ actions: ["AuthenticateImpersonationToken", "RevokeSession"] }, true, () => sessions.reload());
  const active = sessions.data?.sessions.edges.map((edge) => edge.node) ?? [];
  return (
    <Page
      title="Active sessions"
      actions={
        <button type="button" onClick={sessions.reload}>
          Refresh
        </button>
      }
    >
      <p class="muted">Impersonation sessions that are live now. The list follows the audit log as sessions start and end.</p>
      <ErrorNote error={sessions.error ?? revoke.error ?? liveError} />
      <Loading loading={sessions.loading && !sessions.data} />
      {sessions.data && active.length === 0 && <p class="muted">Nobody is impersonating anyone right now.</p>}
      {active.length > 0 && (
        <SessionTable
          caption="Active impersonation sessions"
          sessions={active}
          busy={revoke.busy}
          onRevoke={(session) => void revoke.run(() => call(ConsoleRevokeSessionDocument, { sessionId: session.id })).then(() => sessions.reload())}
        />
      )}
    </Page>
  );
}
