import { useState } from "preact/hooks";
import { ConsoleUsersDocument, type ConsoleUserFieldsFragment } from "../generated/graphql.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { Link } from "../router.tsx";
import { Badge, ErrorNote, Loading, Page } from "../ui.tsx";

const pageSize = 25;

/** Search the project's users by email, name or external id, then open one. */
export function UsersPage() {
  const { call, project } = useConsole();
  const [draft, setDraft] = useState("");
  /** One object per search submitted (the same words again too): pages belong to one of them. */
  const [search, setSearch] = useState({ text: "" });
  /** The pages after the first, with the search they belong to. */
  const [more, setMore] = useState<{ search: typeof search; users: ConsoleUserFieldsFragment[]; endCursor: string | null; hasNextPage: boolean } | null>(null);
  const paging = useAction();
  const first = useLoad(() => call(ConsoleUsersDocument, { projectId: project.id, search: search.text || null, first: pageSize }), [project.id, search]);
  const connection = first.data?.users;
  // "More users" asked before a new search may answer after it: that page is not this search's.
  const later = more?.search === search ? more : null;
  const users = [...(connection?.edges.map((edge) => edge.node) ?? []), ...(later?.users ?? [])];
  const pageInfo = later ?? connection?.pageInfo;

  return (
    <Page title="Users">
      <form
        class="toolbar"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setMore(null);
          setSearch({ text: draft.trim() });
        }}
      >
        <label for="user-search">Search users</label>
        <input id="user-search" type="search" placeholder="Email, name or external id" value={draft} onInput={(event) => setDraft(event.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={first.error ?? paging.error} />
      <Loading loading={first.loading} />
      {!first.loading && users.length === 0 && <p class="muted">No user matches.</p>}
      {users.length > 0 && (
        <table>
          <caption class="visually-hidden">Users of {project.name}</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">External id</th>
              <th scope="col">Protection</th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr key={user.id}>
                <td>
                  <Link to={`/users/${encodeURIComponent(user.id)}`}>{user.email}</Link>
                </td>
                <td>{user.name ?? "—"}</td>
                <td>{user.externalId ?? "—"}</td>
                <td>{user.protected ? <Badge tone="warn">Protected</Badge> : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pageInfo?.hasNextPage && (
        <button
          type="button"
          // While a new search loads, the first page on screen is the old search's, and so is its cursor.
          disabled={paging.busy || first.loading}
          onClick={() =>
            paging.run(async () => {
              const next = await call(ConsoleUsersDocument, { projectId: project.id, search: search.text || null, first: pageSize, after: pageInfo.endCursor });
              const users = next.users.edges.map((edge) => edge.node);
              setMore((previous) => ({ search, users: [...(previous?.search === search ? previous.users : []), ...users], ...next.users.pageInfo }));
            })
          }
        >
          More users
        </button>
      )}
    </Page>
  );
}
