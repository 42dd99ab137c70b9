import { useEffect, useState } from "preact/hooks";
import { ConsoleUserDocument } from "../generated/graphql.ts";
import type { ConsoleState } from "../console-context.tsx";

/** Sessions name users by id: their emails, fetched once per id for the page's lifetime. */
export function useUserEmails(state: Pick<ConsoleState, "call" | "project">, userIds: readonly string[]): ReadonlyMap<string, string> {
  const [emails, setEmails] = useState<ReadonlyMap<string, string>>(new Map());
  const key = [...new Set(userIds)].sort().join(",");
  useEffect(() => {
    const missing = [...new Set(userIds)].filter((id) => !emails.has(id));
    if (missing.length === 0) return;
    let current = true;
    void Promise.all(
      missing.map((id) =>
        state.call(ConsoleUserDocument, { projectId: state.project.id, id }).then(
          (data) => [id, data.user?.email ?? id] as const,
          () => [id, id] as const,
        ),
      ),
    ).then((found) => {
      if (current) setEmails((previous) => new Map([...previous, ...found]));
    });
    return () => {
      current = false;
    };
  }, [key, state.project.id]);
  return emails;
}
