import { describe, expect, it } from "vitest";
import type { TeamRole } from "./__generated__/graphql.js";
import { gql } from "./harness/client.js";
import {
  AUTHENTICATE_SESSION,
  AUTHENTICATE_TOKEN,
  auditRows,
  codeOf,
  countRows,
  createToken,
  expectCode,
  expectOk,
  newMember,
  openOtherProjectSession,
  openSession,
  setPolicy,
  sql,
  UPDATE_MEMBER,
} from "./harness/core-operations.js";
import { type Member } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";

const { t, world } = useTestWorld();

const authenticate = (sessionToken: string) => gql(t.url, world.backend, AUTHENTICATE_SESSION, { sessionToken });
const exchange = (token: string) => gql(t.url, world.backend, AUTHENTICATE_TOKEN, { token });
const updateMember = (id: string, input: Record<string, unknown>) => gql(t.url, world.admin.credential, UPDATE_MEMBER, { id, input });

/** Whether every unused token of `impersonatorId` is voided (tokens are stored only hashed). */
async function unusedTokensVoided(impersonatorId: string): Promise<boolean> {
  const rows = await sql<{ voided_at: unknown }>(t, "select voided_at from impersonation_tokens where impersonator_id = ? and used_at is null", [impersonatorId]);
  // impersonatorWithActivity leaves exactly one token unused.
  expect(rows).toHaveLength(1);
  return rows.every((row) => row.voided_at !== null);
}

/** An impersonator with two active sessions and one unused token, plus a bystander's session. */
async function impersonatorWithActivity(role: TeamRole = "DEVELOPER") {
  const member = await newMember(t, world, role);
  const sessions = [await openSession(t, world, { member }), await openSession(t, world, { member })];
  const token = await createToken(t, world, { member });
  const bystander = await openSession(t, world, { member: world.supportManager });
  return { member, sessions, token, bystander };
}

async function expectRevokedWithOneEventEach(sessionIds: string[], cause: string) {
  for (const id of sessionIds) {
    const events = await auditRows(t, "action = ? and session_id = ?", ["RevokeSession", id]);
    expect(events, `RevokeSession events of ${id}`).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: "SUCCESS", event_type: "direct.session.revoke", project_id: world.projectId });
    expect(events[0]!.details).toContain(cause);
  }
}

describe("disabling a member", () => {
  it("revokes its active sessions, voids its unused tokens and audits each revocation, sparing others", async () => {
    const { member, sessions, token, bystander } = await impersonatorWithActivity();
    const sessionsBefore = await countRows(t, "sessions");

    const updated = expectOk(await updateMember(member.id, { disabled: true }));
    expect(updated.updateTeamMember.disabled).toBe(true);

    for (const session of sessions) expectCode(await authenticate(session.sessionToken), "SESSION_REVOKED");
    await expectRevokedWithOneEventEach(
      sessions.map((s) => s.session.id),
      "member_disabled",
    );
    expect(await unusedTokensVoided(member.id)).toBe(true);
    expectCode(await exchange(token.token), "IMPERSONATION_TOKEN_NOT_FOUND");
    expect(await countRows(t, "sessions")).toBe(sessionsBefore);

    expect(codeOf(await authenticate(bystander.sessionToken))).toBeUndefined();
    expect(await auditRows(t, "action = ? and session_id = ?", ["RevokeSession", bystander.session.id])).toHaveLength(0);
  });

  it("does not revive sessions or tokens when the member is enabled again", async () => {
    const { member, sessions, token } = await impersonatorWithActivity();
    expectOk(await updateMember(member.id, { disabled: true }));
    expectOk(await updateMember(member.id, { disabled: false }));

    expectCode(await authenticate(sessions[0]!.sessionToken), "SESSION_REVOKED");
    expectCode(await exchange(token.token), "IMPERSONATION_TOKEN_NOT_FOUND");
    // The re-enabled member can start afresh.
    expect(codeOf(await authenticate((await openSession(t, world, { member })).sessionToken))).toBeUndefined();
  });
});

describe("demoting a member to VIEWER", () => {
  it("revokes its active sessions, voids its unused tokens and audits each revocation, sparing others", async () => {
    const { member, sessions, token, bystander } = await impersonatorWithActivity("SUPPORT_MANAGER");

    expect(expectOk(await updateMember(member.id, { role: "VIEWER" })).updateTeamMember.role).toBe("VIEWER");

    for (const session of sessions) expectCode(await authenticate(session.sessionToken), "SESSION_REVOKED");
    await expectRevokedWithOneEventEach(
      sessions.map((s) => s.session.id),
      "member_role_changed",
    );
    expect(await unusedTokensVoided(member.id)).toBe(true);
    expectCode(await exchange(token.token), "IMPERSONATION_TOKEN_NOT_FOUND");
    expect(codeOf(await authenticate(bystander.sessionToken))).toBeUndefined();
  });

  it("leaves sessions alone on a change between impersonating roles", async () => {
    const { member, sessions, token } = await impersonatorWithActivity("DEVELOPER");
    expectOk(await updateMember(member.id, { role: "SUPPORT_MANAGER" }));
    expect(codeOf(await authenticate(sessions[0]!.sessionToken))).toBeUndefined();
    expect(codeOf(await exchange(token.token))).toBeUndefined();
  });
});

describe("the exchange-time re-check of the impersonator", () => {
  it("refuses a token whose creator was demoted after creating it", async () => {
    const member = await newMember(t, world, "DEVELOPER");
    const { token } = await createToken(t, world, { member });
    expectOk(await updateMember(member.id, { role: "VIEWER" }));
    const sessions = await countRows(t, "sessions");
    const result = await exchange(token);
    // Voided by the demotion: gone, as README says of voided tokens (the re-check alone: below).
    expectCode(result, "IMPERSONATION_TOKEN_NOT_FOUND");
    expect(await countRows(t, "sessions")).toBe(sessions);
  });

  it("refuses a token whose creator lost the role without the kill switch running (the re-check alone)", async () => {
    for (const change of ["update team_members set role = 'VIEWER' where id = ?", "update team_members set disabled = ? where id = ?"]) {
      const member = await newMember(t, world, "DEVELOPER");
      const { token } = await createToken(t, world, { member });
      // Changed behind the service's back, as a concurrent change on another instance could.
      const params = change.includes("disabled") ? [true, member.id] : [member.id];
      await t.app.orm.em.fork().getConnection().execute(change, params, "run");
      const events = await auditRows(t, "action = ? and impersonator_id = ?", ["AuthenticateImpersonationToken", member.id]);
      expect(events).toHaveLength(0);

      expectCode(await exchange(token), "FORBIDDEN");
      const after = await auditRows(t, "action = ? and impersonator_id = ?", ["AuthenticateImpersonationToken", member.id]);
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({ status: "FAILURE", error_code: "FORBIDDEN" });
    }
  });
});

describe("turning allowImpersonation off", () => {
  it("revokes the project's sessions and voids its tokens for good; other projects are untouched", async () => {
    const sessions = [await openSession(t, world), await openSession(t, world, { member: world.developer })];
    const token = await createToken(t, world, { member: world.admin });
    const other = await openOtherProjectSession(t, world);

    await setPolicy(t, world, { allowImpersonation: false });
    await setPolicy(t, world, { allowImpersonation: true });

    for (const session of sessions) expectCode(await authenticate(session.sessionToken), "SESSION_REVOKED");
    await expectRevokedWithOneEventEach(
      sessions.map((s) => s.session.id),
      "policy_disabled",
    );
    expectCode(await exchange(token.token), "IMPERSONATION_TOKEN_NOT_FOUND");

    expect(codeOf(await gql(t.url, world.other.backend, AUTHENTICATE_SESSION, { sessionToken: other.sessionToken }))).toBeUndefined();
    // Impersonation works again for new tokens.
    expect(codeOf(await authenticate((await openSession(t, world)).sessionToken))).toBeUndefined();
  });
});

describe("the last enabled ADMIN", () => {
  it("cannot be disabled or demoted (FORBIDDEN), while another ADMIN exists it can", async () => {
    expectCode(await updateMember(world.admin.id, { disabled: true }), "FORBIDDEN");
    expectCode(await updateMember(world.admin.id, { role: "DEVELOPER" }), "FORBIDDEN");
    expectCode(await updateMember(world.admin.id, { role: "VIEWER", disabled: true }), "FORBIDDEN");

    const second: Member = await newMember(t, world, "ADMIN");
    // A disabled ADMIN does not count as another enabled ADMIN.
    expectOk(await updateMember(second.id, { disabled: true }));
    expectCode(await updateMember(world.admin.id, { disabled: true }), "FORBIDDEN");
    expectCode(await gql(t.url, second.credential, UPDATE_MEMBER, { id: world.admin.id, input: { disabled: true } }), "UNAUTHENTICATED");

    // With a second enabled ADMIN, the first may be demoted, and then the second is the last one.
    expectOk(await updateMember(second.id, { disabled: false }));
    expectOk(await gql(t.url, second.credential, UPDATE_MEMBER, { id: world.admin.id, input: { role: "DEVELOPER" } }));
    expectCode(await gql(t.url, second.credential, UPDATE_MEMBER, { id: second.id, input: { disabled: true } }), "FORBIDDEN");
    // Restore the world's ADMIN for any later test.
    expectOk(await gql(t.url, second.credential, UPDATE_MEMBER, { id: world.admin.id, input: { role: "ADMIN" } }));

    const admins = await sql<{ n: number | string }>(t, "select count(*) as n from team_members where role = 'ADMIN'");
    expect(Number(admins[0]!.n)).toBe(2);
  });
});
