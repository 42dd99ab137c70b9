import { useEffect, useState } from "preact/hooks";
import {
  ConsoleCreateImpersonationTokenDocument,
  ConsoleImpersonationCheckDocument,
  ConsoleImpersonationRequestsDocument,
  ConsolePolicyDocument,
  ConsoleRequestImpersonationDocument,
  type ConsoleImpersonationRequestFieldsFragment,
  type ConsoleUserFieldsFragment,
  type ImpersonationMode,
} from "../generated/graphql.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { formatTime } from "../format.ts";
import { ErrorNote } from "../ui.tsx";
import { useLiveEvents } from "./use-live-events.ts";

const maxReasonLength = 500;
const modeLabels: Record<ImpersonationMode, string> = { READ_ONLY: "Read only", READ_WRITE: "Read and write" };

/**
 * "Impersonate user": a reason and a mode, the server's explain answer (impersonationCheck) before
 * any click, "Request approval" where the policy or a protected user needs one, then "Launch in new
 * tab". The token exists only inside the launch URL, which goes to a new tab (no opener, no
 * referrer) and is dropped: never shown, never kept.
 */
export function ImpersonatePanel(props: { user: ConsoleUserFieldsFragment; onChange: () => void }) {
  const { call, project, member } = useConsole();
  const [reason, setReason] = useState("");
  const [mode, setMode] = useState<ImpersonationMode>();
  const [notice, setNotice] = useState<string>();
  const action = useAction();
  const policy = useLoad(() => call(ConsolePolicyDocument, { projectId: project.id }), [project.id]);
  const currentPolicy = policy.data?.impersonationPolicy;
  useEffect(() => {
    if (currentPolicy && mode === undefined) setMode(currentPolicy.defaultMode);
  }, [currentPolicy]);
  const check = useLoad(
    () => (mode ? call(ConsoleImpersonationCheckDocument, { projectId: project.id, userId: props.user.id, mode }) : Promise.resolve(undefined)),
    [project.id, props.user.id, mode],
  );
  // The member's own open requests for this user; an ADMIN's decision arrives live.
  const requests = useLoad(async () => {
    const data = await call(ConsoleImpersonationRequestsDocument, { projectId: project.id });
    return data.impersonationRequests.edges.map((edge) => edge.node).filter((request) => request.userId === props.user.id && request.requesterId === member.id);
  }, [project.id, props.user.id]);
  useLiveEvents({ actions: ["ApproveImpersonationRequest", "DenyImpersonationRequest"], userId: props.user.id }, true, () => {
    requests.reload();
    check.reload();
  });

  const explain = check.data?.impersonationCheck;
  const mine = requests.data ?? [];
  const approved = mine.find((request) => request.status === "APPROVED" && new Date(request.expiresAt).getTime() > Date.now());
  const pending = mine.find((request) => request.status === "PENDING");
  const denied = mine.find((request) => request.status === "DENIED");
  const trimmed = reason.trim();

  const launch = (request?: ConsoleImpersonationRequestFieldsFragment) =>
    action.run(async () => {
      setNotice(undefined);
      const input = request
        ? { projectId: project.id, userId: props.user.id, reason: request.reason, requestId: request.id }
        : { projectId: project.id, userId: props.user.id, reason: trimmed, mode };
      const { createImpersonationToken } = await call(ConsoleCreateImpersonationTokenDocument, { input });
      // noopener: the application's page gets no handle on the console; noreferrer: no Referer.
      window.open(createImpersonationToken.launchUrl, "_blank", "noopener,noreferrer");
      setNotice(`Launched in a new tab. The one-time link expires at ${formatTime(createImpersonationToken.expiresAt)}.`);
      requests.reload();
      props.onChange();
    });

  const requestApproval = () =>
    action.run(async () => {
      setNotice(undefined);
      await call(ConsoleRequestImpersonationDocument, { input: { projectId: project.id, userId: props.user.id, reason: trimmed, mode } });
      setNotice("Approval requested. An ADMIN other than you decides it under Approvals; this page updates when they do.");
      requests.reload();
      props.onChange();
    });

  return (
    <section class="card" aria-labelledby="impersonate-title">
      <h2 id="impersonate-title">Impersonate user</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!trimmed || !explain) return;
          if (explain.allowed) void launch();
          else if (explain.requiresApproval) void requestApproval();
        }}
      >
        <label for="impersonate-reason">Reason (required, kept in the audit log)</label>
        <textarea id="impersonate-reason" required maxLength={maxReasonLength} rows={3} value={reason} onInput={(event) => setReason(event.currentTarget.value)} placeholder="Ticket number and what you are checking" />
        <fieldset class="modes">
          <legend>Mode</legend>
          {(["READ_ONLY", "READ_WRITE"] as const).map((candidate) => (
            <label class="inline" key={candidate}>
              <input
                type="radio"
                name="impersonate-mode"
                value={candidate}
                checked={mode === candidate}
                disabled={candidate === "READ_WRITE" && currentPolicy?.allowReadWrite === false}
                onChange={() => setMode(candidate)}
              />
              {modeLabels[candidate]}
              {candidate === currentPolicy?.defaultMode && <span class="muted"> (default)</span>}
            </label>
          ))}
        </fieldset>
        <Explain explain={explain} loading={check.loading} sessionMinutes={currentPolicy?.sessionDurationMinutes ?? 60} />
        {approved && (
          <p class="explain explain-yes" role="status">
            Your request ({modeLabels[approved.mode]}, “{approved.reason}”) was approved; it can be used once, until {formatTime(approved.expiresAt)}.
          </p>
        )}
        {pending && !approved && (
          <p class="explain explain-warn" role="status">
            Your request ({modeLabels[pending.mode]}) is waiting for an ADMIN's approval.
          </p>
        )}
        {denied && !approved && !pending && (
          <p class="explain explain-no" role="status">
            Your last request was denied{denied.denialReason ? `: “${denied.denialReason}”` : "."}
          </p>
        )}
        <div class="row">
          {approved ? (
            <button type="button" class="primary" disabled={action.busy} onClick={() => void launch(approved)}>
              Launch in new tab
            </button>
          ) : explain?.requiresApproval ? (
            <button type="submit" class="primary" disabled={action.busy || !trimmed || Boolean(pending)}>
              Request approval
            </button>
          ) : (
            <button type="submit" class="primary" disabled={action.busy || !trimmed || !explain?.allowed}>
              Launch in new tab
            </button>
          )}
        </div>
      </form>
      <ErrorNote error={action.error ?? check.error ?? policy.error} />
      {notice && (
        <p class="success" role="status">
          {notice}
        </p>
      )}
    </section>
  );
}

/** The server's answer to "may I, now, in this mode?", in words. */
function Explain(props: { sessionMinutes: number; explain: { allowed: boolean; requiresApproval: boolean; reasonCode?: string | null; message?: string | null } | undefined; loading: boolean }) {
  const { explain } = props;
  if (!explain) return <p class="muted">{props.loading ? "Checking whether you may impersonate this user…" : ""}</p>;
  if (explain.allowed) {
    return (
      <p class="explain explain-yes" role="status" data-testid="explain">
        Allowed: you may impersonate this user now. The session lasts {props.sessionMinutes} minutes and cannot be extended.
      </p>
    );
  }
  if (explain.requiresApproval) {
    return (
      <p class="explain explain-warn" role="status" data-testid="explain">
        Needs approval: {explain.message} Request it, and another ADMIN approves or denies it.
      </p>
    );
  }
  return (
    <p class="explain explain-no" role="status" data-testid="explain">
      Not allowed ({explain.reasonCode}): {explain.message}
    </p>
  );
}
