import { useLayoutEffect, useRef, useState } from "preact/hooks";
import {
  ConsoleApproveImpersonationRequestDocument,
  ConsoleDenyImpersonationRequestDocument,
  ConsoleImpersonationRequestsDocument,
  type ConsoleImpersonationRequestFieldsFragment,
  type ImpersonationRequestStatus,
} from "../generated/graphql.ts";
import { useLiveEvents } from "../components/use-live-events.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { formatTime } from "../format.ts";
import { can } from "../permissions.ts";
import { Link } from "../router.tsx";
import { Badge, ErrorNote, Loading, Page } from "../ui.tsx";

const statuses: ImpersonationRequestStatus[] = ["PENDING", "APPROVED", "DENIED", "EXPIRED", "USED"];
const tone = { PENDING: "warn", APPROVED: "good", DENIED: "bad", EXPIRED: "neutral", USED: "neutral" } as const;

/** The four-eyes inbox (SPEC §9): requests to impersonate; an ADMIN approves or denies others' requests. */
export function ApprovalsPage() {
  const { call, project, member } = useConsole();
  const [status, setStatus] = useState<"" | ImpersonationRequestStatus>("PENDING");
  const requests = useLoad(() => call(ConsoleImpersonationRequestsDocument, { projectId: project.id, status: status || null }), [project.id, status]);
  const [denying, setDenying] = useState<ConsoleImpersonationRequestFieldsFragment>();
  const [denialReason, setDenialReason] = useState("");
  const [done, setDone] = useState<string>();
  const decide = useAction();
  const liveError = useLiveEvents({ actions: ["RequestImpersonation", "ApproveImpersonationRequest", "DenyImpersonationRequest", "CreateImpersonationToken"] }, true, () => requests.reload());
  const mayDecide = can.decideApprovals(member.role);
  const denialField = useRef<HTMLTextAreaElement>(null);
  // As the form appears (a layout effect), so that the first keys typed land in it.
  useLayoutEffect(() => denialField.current?.focus(), [denying]);
  const rows = requests.data?.impersonationRequests.edges.map((edge) => edge.node) ?? [];

  return (
    <Page title="Approvals">
      <p class="muted">Requests to impersonate a user that needs approval. Another ADMIN than the requester decides; an approved request is used once, before it expires.</p>
      <div class="toolbar">
        <label for="approval-status">Show</label>
        <select id="approval-status" value={status} onChange={(event) => setStatus(event.currentTarget.value as "" | ImpersonationRequestStatus)}>
          {statuses.map((candidate) => (
            <option key={candidate} value={candidate}>
              {candidate.charAt(0) + candidate.slice(1).toLowerCase()}
            </option>
          ))}
          <option value="">All requests</option>
        </select>
      </div>
      <ErrorNote error={requests.error ?? decide.error ?? liveError} />
      {done && (
        <p class="success" role="status">
          {done}
        </p>
      )}
      {denying && (
        <form
          class="card confirm"
          aria-labelledby="deny-title"
          onSubmit={async (event) => {
            event.preventDefault();
            const reason = denialReason.trim();
            if (!reason) return;
            const ok = await decide.run(() => call(ConsoleDenyImpersonationRequestDocument, { id: denying.id, reason }));
            if (ok) {
              setDone(`Denied ${denying.requester?.email ?? "the requester"}'s request for ${denying.user?.email ?? denying.userId}.`);
              setDenying(undefined);
              setDenialReason("");
              requests.reload();
            }
          }}
        >
          <h2 id="deny-title">
            Deny {denying.requester?.email}'s request for {denying.user?.email}
          </h2>
          <label for="denial-reason">Reason for denying (required, shown to the requester and audited)</label>
          <textarea id="denial-reason" ref={denialField} required rows={2} maxLength={500} value={denialReason} onInput={(event) => setDenialReason(event.currentTarget.value)} />
          <div class="row">
            <button type="submit" class="danger" disabled={decide.busy || !denialReason.trim()}>
              Deny request
            </button>
            <button type="button" onClick={() => setDenying(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <Loading loading={requests.loading && !requests.data} />
      {requests.data && rows.length === 0 && <p class="muted">No request here.</p>}
      {rows.length > 0 && (
        <table>
          <caption class="visually-hidden">Impersonation requests</caption>
          <thead>
            <tr>
              <th scope="col">Requested by</th>
              <th scope="col">User</th>
              <th scope="col">Mode</th>
              <th scope="col">Reason</th>
              <th scope="col">Requested</th>
              <th scope="col">Status</th>
              {mayDecide && <th scope="col">Decision</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((request) => {
              const own = request.requesterId === member.id;
              return (
                <tr key={request.id} data-request-id={request.id}>
                  <td>{request.requester?.email ?? request.requesterId}</td>
                  <td>
                    <Link to={`/users/${encodeURIComponent(request.userId)}`}>{request.user?.email ?? request.userId}</Link>
                  </td>
                  <td>{request.mode === "READ_ONLY" ? "Read only" : "Read and write"}</td>
                  <td class="reason">
                    {request.reason}
                    {request.denialReason && <div class="muted small">Denied: {request.denialReason}</div>}
                  </td>
                  <td>
                    {formatTime(request.createdAt)}
                    <div class="muted small">expires {formatTime(request.expiresAt)}</div>
                  </td>
                  <td>
                    <Badge tone={tone[request.status]}>{request.status}</Badge>
                  </td>
                  {mayDecide && (
                    <td>
                      <div class="actions">
                        {request.status === "PENDING" && own && <span class="muted">Your own request: another ADMIN decides it.</span>}
                        {request.status === "PENDING" && !own && (
                          <>
                            <button
                              type="button"
                              class="primary"
                              disabled={decide.busy}
                              onClick={async () => {
                                setDenying(undefined);
                                const ok = await decide.run(() => call(ConsoleApproveImpersonationRequestDocument, { id: request.id }));
                                if (ok) {
                                  setDone(`Approved ${request.requester?.email ?? "the requester"}'s request for ${request.user?.email ?? request.userId}.`);
                                  requests.reload();
                                }
                              }}
                            >
                              Approve
                            </button>
                            <button type="button" class="danger" disabled={decide.busy} onClick={() => (setDone(undefined), setDenying(request))}>
                              Deny
                            </button>
                          </>
                        )}
                      </div>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Page>
  );
}
