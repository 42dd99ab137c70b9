import type { ConsoleAuditEventFieldsFragment } from "../generated/graphql.ts";
import { formatTime } from "../format.ts";
import { Badge } from "../ui.tsx";

/** Audit events, newest first; `fresh` ids (arrived live) are marked. */
export function AuditTable(props: { events: ConsoleAuditEventFieldsFragment[]; caption: string; fresh?: ReadonlySet<string> }) {
  return (
    <table class="audit">
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Action</th>
          <th scope="col">Outcome</th>
          <th scope="col">Impersonator</th>
          <th scope="col">User</th>
          <th scope="col">Reason</th>
          <th scope="col">Address</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((event) => (
          <tr key={event.id} data-event-id={event.id} class={props.fresh?.has(event.id) ? "fresh" : undefined}>
            <td class="when">{formatTime(event.createdAt)}</td>
            <td>
              {event.action}
              {event.eventType && <div class="muted small">{event.eventType}</div>}
              {event.mode && <div class="muted small">{event.mode === "READ_ONLY" ? "read only" : "read and write"}</div>}
            </td>
            <td>{event.status === "SUCCESS" ? <Badge tone="good">Success</Badge> : <Badge tone="bad">{event.errorCode ?? "Failure"}</Badge>}</td>
            <td>{event.impersonatorEmail ?? "—"}</td>
            <td>{event.user?.email ?? event.userId ?? "—"}</td>
            <td class="reason">{event.reason ?? "—"}</td>
            <td class="address">{event.ipAddress ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
