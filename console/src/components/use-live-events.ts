import { useEffect, useState } from "preact/hooks";
import { ConsoleAuditEventAddedDocument, type AuditEventFilter, type ConsoleAuditEventFieldsFragment } from "../generated/graphql.ts";
import { useConsole } from "../console-context.tsx";
import { subscribe } from "../live.ts";

/** How a feed that shows what it received resumes after a reconnect: nothing missed, nothing twice. */
export interface LiveResume {
  /** The newest event's seq already on screen (null: none), read each time the subscription is (re)sent. */
  newestSeen(): number | null;
  /** The server would not catch up that far back: show the log anew; the feed restarts without resuming. */
  tooFarBehind(): void;
}

/**
 * Calls `onEvent` with each audit event of the project that matches `filter`, as it commits. With
 * `resume`, the subscription (and each re-subscription after a reconnect) asks for the events after
 * the newest one seen first (auditEventAdded's afterSeq).
 */
export function useLiveEvents(
  filter: AuditEventFilter | null,
  enabled: boolean,
  onEvent: (event: ConsoleAuditEventFieldsFragment) => void,
  resume?: LiveResume,
): string | undefined {
  const { live, project, refused } = useConsole();
  const [error, setError] = useState<string>();
  const [restarts, setRestarts] = useState(0);
  const filterKey = JSON.stringify(filter);
  useEffect(() => {
    if (!enabled) return;
    setError(undefined);
    let resumedFrom: number | null = null;
    const variables = () => {
      resumedFrom = resume?.newestSeen() ?? null;
      return { projectId: project.id, filter, afterSeq: resumedFrom };
    };
    return subscribe(live, ConsoleAuditEventAddedDocument, variables, (data) => onEvent(data.auditEventAdded), (message, code) => {
      // The server re-checks the member for every event: a disabled member or a rotated key ends here.
      if (code === "UNAUTHENTICATED") refused();
      else if (code === "BAD_USER_INPUT" && resume && resumedFrom !== null) {
        resume.tooFarBehind();
        setRestarts((count) => count + 1);
      } else setError(`Live feed: ${message}`);
    });
  }, [live, project.id, filterKey, enabled, restarts]);
  return error;
}
