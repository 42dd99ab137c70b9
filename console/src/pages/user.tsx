import { ConsoleAuditEventsDocument, ConsoleRevokeSessionDocument, ConsoleSetUserProtectedDocument, ConsoleUserDocument } from "../generated/graphql.ts";
import { AuditTable } from "../components/audit-table.tsx";
import { ImpersonatePanel } from "../components/impersonate-panel.tsx";
import { MoreSessions } from "../components/more-sessions.tsx";
import { SessionTable } from "../components/session-table.tsx";
import { useSessionPages } from "../components/use-session-pages.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { can } from "../permissions.ts";
import { Link } from "../router.tsx";
import { Badge, ErrorNote, Loading, Page } from "../ui.tsx";

const sessionPageSize = 20;

/** One user: who they are, "Impersonate user", their impersonation sessions and recent audit events. */
export function UserPage(props: { userId: string }) {
  const state = useConsole();
  const { call, project, member } = state;
  const user = useLoad(() => call(ConsoleUserDocument, { projectId: project.id, id: props.userId }), [project.id, props.userId]);
  const sessions = useSessionPages({ userId: props.userId }, sessionPageSize);
  const events = useLoad(() => call(ConsoleAuditEventsDocument, { projectId: project.id, filter: { userId: props.userId }, first: 10 }), [project.id, props.userId]);
  const revoke = useAction();
  const protect = useAction();
  const found = user.data?.user;

  if (user.loading && !user.data) return <Loading loading />;
  if (!found) {
    return (
      <Page title="User not found">
        <ErrorNote error={user.error} />
        <p>
          <Link to="/users">Back to users</Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title={found.email}>
      <p>
        <Link to="/users">← All users</Link>
      </p>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{found.name ?? "—"}</dd>
        <dt>User id</dt>
        <dd>
          <code>{found.id}</code>
        </dd>
        <dt>External id</dt>
        <dd>{found.externalId ?? "—"}</dd>
        <dt>Protection</dt>
        <dd>
          {found.protected ? <Badge tone="warn">Protected</Badge> : "Not protected"}
          {can.protectUsers(member.role) && (
            <button
              type="button"
              class="inline-action"
              disabled={protect.busy}
              onClick={() => void protect.run(() => call(ConsoleSetUserProtectedDocument, { projectId: project.id, id: found.id, protected: !found.protected })).then(user.reload)}
            >
              {found.protected ? "Remove protection" : "Protect this user"}
            </button>
          )}
        </dd>
      </dl>
      <ErrorNote error={protect.error} />
      {can.impersonate(member.role) && (
        <ImpersonatePanel
          key={`${found.id}:${found.protected}`}
          user={found}
          onChange={() => {
            events.reload();
          }}
        />
      )}
      <h2>Impersonation sessions</h2>
      <ErrorNote error={sessions.error ?? revoke.error} />
      {sessions.loaded && sessions.sessions.length === 0 && <p class="muted">Nobody has impersonated this user yet.</p>}
      {sessions.sessions.length > 0 && (
        <SessionTable
          caption={`Impersonation sessions of ${found.email}`}
          sessions={sessions.sessions}
          busy={revoke.busy}
          onRevoke={(session) => void revoke.run(() => call(ConsoleRevokeSessionDocument, { sessionId: session.id })).then(() => sessions.reload())}
        />
      )}
      <MoreSessions pages={sessions} what="sessions of this user" />
      <div class="row">
        <button type="button" onClick={() => (sessions.reload(), events.reload())}>
          Refresh
        </button>
      </div>
      <h2>Recent audit events</h2>
      <ErrorNote error={events.error} />
      {events.data && events.data.auditEvents.edges.length === 0 && <p class="muted">No events yet.</p>}
      {events.data && events.data.auditEvents.edges.length > 0 && <AuditTable caption={`Recent audit events of ${found.email}`} events={events.data.auditEvents.edges.map((edge) => edge.node)} />}
    </Page>
  );
}
