import { useEffect, useState } from "preact/hooks";
import { ConsoleAuditEventAddedDocument, type AuditEventFilter, type ConsoleAuditEventFieldsFragment } from "../generated/graphql.ts";
import { useConsole } from "../console-context.tsx";
import { subscribe } from "../live.ts";

/** Calls `onEvent` with each audit event of the project that matches `filter`, as it commits. */
export function useLiveEvents(filter: AuditEventFilter | null, enabled: boolean, onEvent: (event: ConsoleAuditEventFieldsFragment) => void): string | undefined {
  const { live, project, refused } = useConsole();
  const [error, setError] = useState<string>();
  const filterKey = JSON.stringify(filter);
  useEffect(() => {
    if (!enabled) return;
    setError(undefined);
    return subscribe(live, ConsoleAuditEventAddedDocument, { projectId: project.id, filter }, (data) => onEvent(data.auditEventAdded), (message, code) => {
      // The server re-checks the member for every event: a disabled member or a rotated key ends here.
      if (code === "UNAUTHENTICATED") refused();
      else setError(`Live feed: ${message}`);
    });
  }, [live, project.id, filterKey, enabled]);
  return error;
}
