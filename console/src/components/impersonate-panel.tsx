import { useState } from "preact/hooks";
import { ConsoleCreateImpersonationTokenDocument, ConsolePolicyDocument, type ConsoleUserFieldsFragment } from "../../../test/__generated__/graphql.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { formatTime } from "../format.ts";
import { ErrorNote } from "../ui.tsx";

const maxReasonLength = 500;

/**
 * "Impersonate user": a reason, then "Launch in new tab". The token exists only inside the launch
 * URL, which is handed to a new tab (no opener, no referrer) and then dropped: never shown, never kept.
 */
export function ImpersonatePanel(props: { user: ConsoleUserFieldsFragment; onLaunched: () => void }) {
  const { call, project } = useConsole();
  const [reason, setReason] = useState("");
  const [launched, setLaunched] = useState<string>();
  const launch = useAction();
  const policy = useLoad(() => call(ConsolePolicyDocument, { projectId: project.id }), [project.id]);
  const allowed = policy.data?.impersonationPolicy.allowImpersonation;
  const trimmed = reason.trim();

  return (
    <section class="card" aria-labelledby="impersonate-title">
      <h2 id="impersonate-title">Impersonate user</h2>
      {allowed === false && (
        <p class="explain explain-no" role="status">
          Impersonation is turned off for this project: an ADMIN turns it on under Policy.
        </p>
      )}
      {allowed && props.user.protected && (
        <p class="explain explain-warn" role="status">
          This user is protected: impersonating them needs a request approved by another ADMIN.
        </p>
      )}
      {allowed && !props.user.protected && (
        <p class="explain explain-yes" role="status">
          You may impersonate {props.user.email}. The session lasts {policy.data?.impersonationPolicy.sessionDurationMinutes} minutes and cannot be extended.
        </p>
      )}
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          if (!trimmed) {
            launch.clear();
            return;
          }
          setLaunched(undefined);
          await launch.run(async () => {
            const { createImpersonationToken } = await call(ConsoleCreateImpersonationTokenDocument, { input: { projectId: project.id, userId: props.user.id, reason: trimmed } });
            // noopener: the application's page gets no handle on the console; noreferrer: no Referer.
            window.open(createImpersonationToken.launchUrl, "_blank", "noopener,noreferrer");
            setLaunched(`Launched in a new tab. The one-time link expires at ${formatTime(createImpersonationToken.expiresAt)}.`);
            props.onLaunched();
          });
        }}
      >
        <label for="impersonate-reason">Reason (required, kept in the audit log)</label>
        <textarea id="impersonate-reason" required maxLength={maxReasonLength} rows={3} value={reason} onInput={(event) => setReason(event.currentTarget.value)} placeholder="Ticket number and what you are checking" />
        <div class="row">
          <button type="submit" class="primary" disabled={launch.busy || !trimmed || allowed === false}>
            Launch in new tab
          </button>
        </div>
      </form>
      <ErrorNote error={launch.error} />
      {launched && (
        <p class="success" role="status">
          {launched}
        </p>
      )}
    </section>
  );
}
