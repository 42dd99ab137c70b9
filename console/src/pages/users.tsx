import { useState } from "preact/hooks";
import { ConsoleUsersDocument, type ConsoleUserFieldsFragment } from "../../../test/__generated__/graphql.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { Link } from "../router.tsx";
import { Badge, ErrorNote, Loading, Page } from "../ui.tsx";

const pageSize = 25;

/** Search the project's users by email, name or external id, then open one. */
export function UsersPage() {
  const { call, project } = useConsole();
  const [draft, setDraft] = useState("");
  const [search, setSearch] = useState("");
  const [more, setMore] = useState<{ users: ConsoleUserFieldsFragment[]; endCursor: string | null; hasNextPage: boolean } | null>(null);
  const paging = useAction();
  const first = useLoad(() => call(ConsoleUsersDocument, { projectId: project.id, search: search || null, first: pageSize }), [project.id, search]);
  const connection = first.data?.users;
  const users = [...(connection?.edges.map((edge) => edge.node) ?? []), ...(more?.users ?? [])];
  const pageInfo = more ?? connection?.pageInfo;

  return (
    <Page title="Users">
      <form
        class="toolbar"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setMore(null);
          setSearch(draft.trim());
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
          disabled={paging.busy}
          onClick={() =>
            paging.run(async () => {
              const next = await call(ConsoleUsersDocument, { projectId: project.id, search: search || null, first: pageSize, after: pageInfo.endCursor });
              setMore({ users: [...(more?.users ?? []), ...next.users.edges.map((edge) => edge.node)], ...next.users.pageInfo });
            })
          }
        >
          More users
        </button>
      )}
    </Page>
  );
}
