import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { ConsoleTeamMembersDocument, ConsoleUpdateTeamMemberDocument, type ConsoleMemberFieldsFragment, type TeamRole, type UpdateTeamMemberInput } from "../generated/graphql.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { can } from "../permissions.ts";
import { Badge, ErrorNote, Loading, Page } from "../ui.tsx";

const roles: TeamRole[] = ["ADMIN", "DEVELOPER", "SUPPORT_MANAGER", "VIEWER"];

interface PendingChange {
  member: ConsoleMemberFieldsFragment;
  input: UpdateTeamMemberInput;
  /** What the change does, said before it is confirmed. */
  effect: string;
}

/** What a change to a member does (SPEC §4.4, §9): disabling or demoting out of impersonation is a kill switch. */
function effectOf(member: ConsoleMemberFieldsFragment, input: UpdateTeamMemberInput): string {
  const killSwitch = "revokes their active impersonation sessions at once and voids their unused tokens and their pending and approved requests";
  if (input.disabled === true) return `Disabling ${member.email} stops their API keys at once, ${killSwitch}.`;
  if (input.disabled === false) return `Enabling ${member.email} lets their API keys work again.`;
  if (input.role && can.impersonate(member.role) && !can.impersonate(input.role)) return `Making ${member.email} a ${input.role} ${killSwitch}.`;
  return `${member.email} becomes ${input.role}.`;
}

/** The team: every member sees it; an ADMIN changes roles and disables members, after a confirmation. */
export function TeamPage() {
  const { call, member: me } = useConsole();
  const members = useLoad(() => call(ConsoleTeamMembersDocument, {}), []);
  const [roleDrafts, setRoleDrafts] = useState<Record<string, TeamRole>>({});
  const [pending, setPending] = useState<PendingChange>();
  const [done, setDone] = useState<string>();
  const change = useAction();
  const manage = can.manageTeam(me.role);
  // The confirmation takes the focus (on Cancel, the safe choice), so the keyboard is where the question
  // is. As it appears (a layout effect), not a frame later: an Enter pressed in between would repeat
  // the click that opened it instead of cancelling.
  const cancelButton = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => cancelButton.current?.focus(), [pending]);
  const propose = (member: ConsoleMemberFieldsFragment, input: UpdateTeamMemberInput) => {
    setDone(undefined);
    change.clear();
    setPending({ member, input, effect: effectOf(member, input) });
  };

  return (
    <Page title="Team">
      <ErrorNote error={members.error ?? change.error} />
      <Loading loading={members.loading && !members.data} />
      {pending && (
        <div class="card confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-effect">
          <h2 id="confirm-title">Confirm the change</h2>
          <p id="confirm-effect">{pending.effect}</p>
          <div class="row">
            <button
              type="button"
              class="danger"
              disabled={change.busy}
              onClick={async () => {
                const ok = await change.run(() => call(ConsoleUpdateTeamMemberDocument, { id: pending.member.id, input: pending.input }));
                if (ok) {
                  setDone(`Done: ${pending.effect}`);
                  setPending(undefined);
                  members.reload();
                }
              }}
            >
              Confirm
            </button>
            <button
              type="button"
              ref={cancelButton}
              onClick={() => {
                const { [pending.member.id]: _dropped, ...others } = roleDrafts;
                setRoleDrafts(others);
                setPending(undefined);
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      {done && (
        <p class="success" role="status">
          {done}
        </p>
      )}
      {members.data && (
        <table>
          <caption class="visually-hidden">Team members</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              {manage && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {members.data.teamMembers.edges.map(({ node: member }) => {
              const self = member.id === me.id;
              const draft = roleDrafts[member.id] ?? member.role;
              return (
                <tr key={member.id} data-member-email={member.email}>
                  <td>
                    {member.email}
                    {self && <span class="muted"> (you)</span>}
                  </td>
                  <td>{member.name ?? "—"}</td>
                  <td>{member.role}</td>
                  <td>{member.disabled ? <Badge tone="bad">Disabled</Badge> : <Badge tone="good">Enabled</Badge>}</td>
                  {manage && (
                    <td>
                      {!self && (
                        <div class="actions">
                          <label class="visually-hidden" for={`role-${member.id}`}>
                            New role for {member.email}
                          </label>
                          <select id={`role-${member.id}`} value={draft} onChange={(event) => setRoleDrafts({ ...roleDrafts, [member.id]: event.currentTarget.value as TeamRole })}>
                            {roles.map((role) => (
                              <option key={role} value={role}>
                                {role}
                              </option>
                            ))}
                          </select>
                          <button type="button" disabled={draft === member.role} onClick={() => propose(member, { role: draft })}>
                            Change role
                          </button>
                          <button type="button" class={member.disabled ? undefined : "danger"} onClick={() => propose(member, { disabled: !member.disabled })}>
                            {member.disabled ? "Enable" : "Disable"}
                          </button>
                        </div>
                      )}
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
