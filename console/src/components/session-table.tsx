import type { ConsoleSessionFieldsFragment } from "../generated/graphql.ts";
import { useConsole, useNow } from "../console-context.tsx";
import { formatTime, timeLeft } from "../format.ts";
import { can } from "../permissions.ts";
import { Link } from "../router.tsx";
import { Badge } from "../ui.tsx";
import { useUserEmails } from "./user-emails.ts";

/** Who is impersonating whom, with the time left and, for the roles that may, Revoke. */
export function SessionTable(props: { sessions: ConsoleSessionFieldsFragment[]; onRevoke: (session: ConsoleSessionFieldsFragment) => void; busy: boolean; caption: string }) {
  const state = useConsole();
  const now = useNow();
  const emails = useUserEmails(state, props.sessions.map((session) => session.userId));
  const mayRevoke = can.revokeSessions(state.member.role);
  return (
    <table>
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Impersonator</th>
          <th scope="col">Viewing as</th>
          <th scope="col">Mode</th>
          <th scope="col">Started</th>
          <th scope="col">Time left</th>
          {mayRevoke && <th scope="col">Action</th>}
        </tr>
      </thead>
      <tbody>
        {props.sessions.map((session) => {
          const active = !session.revokedAt && new Date(session.expiresAt).getTime() > now;
          return (
            <tr key={session.id} data-session-id={session.id}>
              <td>{session.impersonatorEmail}</td>
              <td>
                <Link to={`/users/${encodeURIComponent(session.userId)}`}>{emails.get(session.userId) ?? session.userId}</Link>
              </td>
              <td>{session.mode === "READ_ONLY" ? "Read only" : "Read and write"}</td>
              <td>{formatTime(session.startedAt)}</td>
              <td>{session.revokedAt ? <Badge tone="bad">Revoked {formatTime(session.revokedAt)}</Badge> : timeLeft(session.expiresAt, now)}</td>
              {mayRevoke && (
                <td>
                  {active && (
                    <button type="button" class="danger" disabled={props.busy} aria-label={`Revoke ${session.impersonatorEmail}'s session as ${emails.get(session.userId) ?? session.userId}`} onClick={() => props.onRevoke(session)}>
                      Revoke
                    </button>
                  )}
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
