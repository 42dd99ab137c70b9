import { useRef, useState } from "preact/hooks";
import {
  ConsoleAuditEventsDocument,
  ConsoleTeamMembersDocument,
  ConsoleVerifyAuditLogDocument,
  type AuditEventFilter,
  type AuditStatus,
  type ConsoleAuditEventFieldsFragment,
  type ConsoleVerifyAuditLogQuery,
} from "../generated/graphql.ts";
import { AuditTable } from "../components/audit-table.tsx";
import { useLiveEvents } from "../components/use-live-events.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { ErrorNote, Loading, Page } from "../ui.tsx";

const pageSize = 25;
/** The audited actions (SPEC §4.5, §8, §9) a filter can pick. */
const actions = [
  "CreateImpersonationToken",
  "AuthenticateImpersonationToken",
  "RevokeSession",
  "SetImpersonationPolicy",
  "RequestImpersonation",
  "ApproveImpersonationRequest",
  "DenyImpersonationRequest",
  "UpdateUser",
  "UpdateProject",
  "RotateProjectSecret",
  "RotatePublicToken",
];

interface FilterForm {
  action: string;
  status: "" | AuditStatus;
  impersonatorId: string;
  userId: string;
  since: string;
  until: string;
}
const emptyForm: FilterForm = { action: "", status: "", impersonatorId: "", userId: "", since: "", until: "" };

function toFilter(form: FilterForm): AuditEventFilter {
  const filter: AuditEventFilter = {};
  if (form.action) filter.actions = [form.action];
  if (form.status) filter.status = form.status;
  if (form.impersonatorId) filter.impersonatorId = form.impersonatorId;
  if (form.userId.trim()) filter.userId = form.userId.trim();
  // datetime-local is the reader's local time; the API takes instants.
  if (form.since) filter.since = new Date(form.since).toISOString();
  if (form.until) filter.until = new Date(form.until).toISOString();
  return filter;
}

/** The audit log: filters, pages, the live tail and chain verification. */
export function ActivityPage() {
  const { call, project } = useConsole();
  const [form, setForm] = useState<FilterForm>(emptyForm);
  const [filter, setFilter] = useState<AuditEventFilter>({});
  /** Cursors of the pages before the current one; the current page starts after the last. */
  const [cursors, setCursors] = useState<string[]>([]);
  const [liveOn, setLiveOn] = useState(true);
  /**
   * Events the live feed brought since the page was loaded, with the filter they were subscribed
   * with: the subscription of the previous filter ends only after the new filter is on screen, and
   * what it still brings then does not belong to the new one.
   */
  const [arrived, setArrived] = useState<{ filterKey: string; events: ConsoleAuditEventFieldsFragment[] }>({ filterKey: JSON.stringify({}), events: [] });
  const [verification, setVerification] = useState<ConsoleVerifyAuditLogQuery["verifyAuditLog"]>();
  const verify = useAction();
  const after = cursors.at(-1) ?? null;
  const filterKey = JSON.stringify(filter);
  const page = useLoad(() => call(ConsoleAuditEventsDocument, { projectId: project.id, filter, first: pageSize, after }), [project.id, filterKey, after]);
  const members = useLoad(() => call(ConsoleTeamMembersDocument, {}), []);
  const onFirstPage = cursors.length === 0;
  /**
   * The newest seq on screen (from the first page and from each live event): the live feed resumes
   * after it when it (re)subscribes, so a reconnect neither misses an event nor shows one twice.
   */
  const newestSeen = useRef<number | null>(null);
  const saw = (seq: number) => {
    if (newestSeen.current === null || seq > newestSeen.current) newestSeen.current = seq;
  };
  const firstLoaded = onFirstPage ? page.data?.auditEvents.edges[0]?.node : undefined;
  if (firstLoaded) saw(firstLoaded.seq);
  // The feed starts once the first page has answered, so that it resumes after that page's newest
  // event: started earlier, it would subscribe without afterSeq and could miss an event committed
  // between the page's read and the server's listener.
  const liveReady = page.data !== undefined || page.error !== undefined;
  const liveError = useLiveEvents(
    filter,
    liveOn && liveReady,
    (event) => {
      saw(event.seq);
      setArrived((previous) =>
        previous.filterKey !== filterKey || previous.events.some((known) => known.id === event.id) ? previous : { filterKey, events: [event, ...previous.events] },
      );
    },
    {
      newestSeen: () => newestSeen.current,
      tooFarBehind: () => {
        newestSeen.current = null;
        applyFilter(filter);
      },
    },
  );
  /** Shows `next` from its first page, loaded anew (the same filter again too: what arrived live is dropped, so it must be in the page). */
  const applyFilter = (next: AuditEventFilter) => {
    setArrived({ filterKey: JSON.stringify(next), events: [] });
    setCursors([]);
    setFilter(next);
    page.reload();
  };

  const loaded = page.data?.auditEvents.edges.map((edge) => edge.node) ?? [];
  const loadedIds = new Set(loaded.map((event) => event.id));
  const fresh = arrived.events.filter((event) => !loadedIds.has(event.id));
  const events = onFirstPage ? [...fresh, ...loaded] : loaded;
  const set = <K extends keyof FilterForm>(key: K, value: FilterForm[K]) => setForm((previous) => ({ ...previous, [key]: value }));

  return (
    <Page
      title="Activity"
      actions={
        <>
          <label class="inline">
            <input type="checkbox" checked={liveOn} onChange={(event) => setLiveOn(event.currentTarget.checked)} /> Live tail
          </label>
          <button
            type="button"
            disabled={verify.busy}
            onClick={() => verify.run(async () => setVerification((await call(ConsoleVerifyAuditLogDocument, { projectId: project.id })).verifyAuditLog))}
          >
            Verify chain
          </button>
        </>
      }
    >
      <ErrorNote error={verify.error} />
      {verification && (
        <p class={verification.valid ? "success" : "error"} role="status" data-testid="chain-verification">
          {verification.valid
            ? `Audit chain intact: ${verification.checkedCount} events verified.`
            : `Audit chain broken: event ${verification.firstInvalidEventId} does not verify (${verification.checkedCount} events checked).`}
        </p>
      )}
      <form
        class="filters"
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          applyFilter(toFilter(form));
        }}
      >
        <label>
          Action
          <select value={form.action} onChange={(event) => set("action", event.currentTarget.value)}>
            <option value="">Any action</option>
            {actions.map((action) => (
              <option key={action} value={action}>
                {action}
              </option>
            ))}
          </select>
        </label>
        <label>
          Outcome
          <select value={form.status} onChange={(event) => set("status", event.currentTarget.value as FilterForm["status"])}>
            <option value="">Any outcome</option>
            <option value="SUCCESS">Success</option>
            <option value="FAILURE">Failure</option>
          </select>
        </label>
        <label>
          Impersonator
          <select value={form.impersonatorId} onChange={(event) => set("impersonatorId", event.currentTarget.value)}>
            <option value="">Anyone</option>
            {members.data?.teamMembers.edges.map((edge) => (
              <option key={edge.node.id} value={edge.node.id}>
                {edge.node.email}
              </option>
            ))}
          </select>
        </label>
        <label>
          User id
          <input type="text" value={form.userId} onInput={(event) => set("userId", event.currentTarget.value)} />
        </label>
        <label>
          Since
          <input type="datetime-local" step={1} value={form.since} onInput={(event) => set("since", event.currentTarget.value)} />
        </label>
        <label>
          Until
          <input type="datetime-local" step={1} value={form.until} onInput={(event) => set("until", event.currentTarget.value)} />
        </label>
        <div class="row">
          <button type="submit" class="primary">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(emptyForm);
              applyFilter({});
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorNote error={page.error ?? liveError} />
      {!onFirstPage && fresh.length > 0 && (
        <p class="muted" role="status">
          {fresh.length} new event{fresh.length === 1 ? "" : "s"} since — back to the first page to see them.
        </p>
      )}
      <Loading loading={page.loading && !page.data} />
      {page.data && events.length === 0 && <p class="muted">No event matches.</p>}
      {events.length > 0 && <AuditTable caption="Audit events, newest first" events={events} fresh={new Set(fresh.map((event) => event.id))} />}
      <div class="row pager">
        <button type="button" disabled={onFirstPage} onClick={() => setCursors([])}>
          First page
        </button>
        <button type="button" disabled={onFirstPage} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          disabled={!page.data?.auditEvents.pageInfo.hasNextPage}
          onClick={() => {
            const end = page.data?.auditEvents.pageInfo.endCursor;
            if (end) setCursors([...cursors, end]);
          }}
        >
          Older
        </button>
        <span class="muted">Page {cursors.length + 1}</span>
      </div>
    </Page>
  );
}
