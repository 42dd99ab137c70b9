import { describe, expect, it } from "vitest";
import { ImpersonationCheckDocument, UpdateUserDocument, type ImpersonationMode, type ImpersonationPolicyInput, type TeamRole } from "./__generated__/graphql.js";
import { asBackend, gql, gqlOk, type Credential } from "./harness/client.js";
import { approve, createModeToken, exchange, openRequest, setSafetyPolicy, tokenFromRequest } from "./harness/approvals.js";
import { codeOf, countRows, CREATE_PROJECT, expectOk, newMember, newUser, unique } from "./harness/core-operations.js";
import type { Member } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * SPEC §9, explain: for every rule, impersonationCheck's answer is what the real calls do. Each case
 * builds its situation in a project of its own, asks impersonationCheck, then really creates a token
 * and exchanges it with the project's backend, and compares. Through the real endpoint, on the
 * vitest project's database.
 */
const { t, world } = useTestWorld();

interface Situation {
  caller: Member;
  projectId: string;
  userId: string;
  mode?: ImpersonationMode;
  backend: Credential;
}

interface Case {
  rule: string;
  /** The code the real sequence gets (null: a session starts). Pinned, so that a rule both sides skip is noticed. */
  expected: string | null;
  /** For APPROVAL_REQUIRED: what the same sequence gets from an approved request instead. */
  withApproval?: string | null;
  situation(): Promise<Situation>;
}

/** A project of its own with a user, impersonation on and `policy` applied, and a caller of `role`. */
async function situation(
  options: { policy?: ImpersonationPolicyInput; role?: TeamRole; protectedUser?: boolean; mode?: ImpersonationMode; activeSessions?: number } = {},
): Promise<Situation> {
  const created = (await gqlOk(t.url, world.admin.credential, CREATE_PROJECT, { input: { name: unique("check"), loginRedirectUrl: "https://app.example.com/auth" } }))
    .createProject;
  const projectId = created.project.id;
  const backend = asBackend(projectId, created.secret);
  const userId = await newUser(t, world, { projectId });
  const caller = await newMember(t, world, options.role ?? "SUPPORT_MANAGER");
  await setSafetyPolicy(t, world, { allowImpersonation: true }, projectId);
  // The caller's running sessions count towards its limit in the project, whoever they are on. On
  // another user, read-only: the tightenings below (protecting the user, read-write off) revoke the
  // running sessions they would not allow, and these must stay.
  const busyWith = options.activeSessions ? await newUser(t, world, { projectId }) : null;
  for (let i = 0; i < (options.activeSessions ?? 0); i++) {
    const { token } = expectOk(await createModeToken(t, caller.credential, { projectId, userId: busyWith!, mode: "READ_ONLY" })).createImpersonationToken;
    expectOk(await exchange(t, backend, token));
  }
  if (options.protectedUser) {
    expectOk(await gql(t.url, world.admin.credential, UpdateUserDocument, { projectId, id: userId, input: { protected: true } }));
  }
  if (options.policy) await setSafetyPolicy(t, world, options.policy, projectId);
  return { caller, projectId, userId, backend, mode: options.mode };
}

const readOnlyOnly: ImpersonationPolicyInput = { allowReadWrite: false };

const cases: Case[] = [
  { rule: "everything fine", expected: null, situation: () => situation() },
  { rule: "policy off", expected: "IMPERSONATION_DISABLED", situation: () => situation({ policy: { allowImpersonation: false } }) },
  { rule: "unknown user", expected: "NOT_FOUND", situation: async () => ({ ...(await situation()), userId: "user_ThisUserWasNeverCreated0000" }) },
  { rule: "another project's user", expected: "NOT_FOUND", situation: async () => ({ ...(await situation()), userId: world.other.userId }) },
  { rule: "unknown project", expected: "NOT_FOUND", situation: async () => ({ ...(await situation()), projectId: "project_ThisProjectDoesNotExist0" }) },
  { rule: "VIEWER caller", expected: "FORBIDDEN", situation: () => situation({ role: "VIEWER" }) },
  { rule: "READ_WRITE not allowed", expected: "FORBIDDEN", situation: () => situation({ policy: readOnlyOnly, mode: "READ_WRITE" }) },
  { rule: "READ_ONLY where READ_WRITE is not allowed", expected: null, situation: () => situation({ policy: readOnlyOnly, mode: "READ_ONLY" }) },
  { rule: "the READ_ONLY default where READ_WRITE is not allowed", expected: null, situation: () => situation({ policy: readOnlyOnly }) },
  { rule: "protected user", expected: "APPROVAL_REQUIRED", withApproval: null, situation: () => situation({ protectedUser: true }) },
  {
    rule: "protected user, requireApproval NONE",
    expected: "APPROVAL_REQUIRED",
    withApproval: null,
    situation: () => situation({ protectedUser: true, policy: { requireApproval: "NONE" } }),
  },
  { rule: "requireApproval ALL", expected: "APPROVAL_REQUIRED", withApproval: null, situation: () => situation({ policy: { requireApproval: "ALL" } }) },
  { rule: "requireApproval NONE with an unprotected user", expected: null, situation: () => situation({ policy: { requireApproval: "NONE" } }) },
  { rule: "session limit reached", expected: "IMPERSONATION_LIMIT_REACHED", situation: () => situation({ activeSessions: 2, policy: { maxActiveSessionsPerImpersonator: 2 } }) },
  { rule: "session limit with a slot free", expected: null, situation: () => situation({ activeSessions: 1, policy: { maxActiveSessionsPerImpersonator: 2 } }) },
  // Several rules broken at once: the first one the real calls check wins, in the check too.
  { rule: "policy off, VIEWER caller", expected: "FORBIDDEN", situation: () => situation({ role: "VIEWER", policy: { allowImpersonation: false } }) },
  {
    rule: "policy off, unknown user",
    expected: "IMPERSONATION_DISABLED",
    situation: async () => ({ ...(await situation({ policy: { allowImpersonation: false } })), userId: "user_ThisUserWasNeverCreated0000" }),
  },
  { rule: "protected user, READ_WRITE not allowed", expected: "FORBIDDEN", situation: () => situation({ protectedUser: true, policy: readOnlyOnly, mode: "READ_WRITE" }) },
  {
    rule: "protected user, session limit reached",
    expected: "APPROVAL_REQUIRED",
    withApproval: "IMPERSONATION_LIMIT_REACHED",
    situation: () => situation({ protectedUser: true, activeSessions: 1, policy: { maxActiveSessionsPerImpersonator: 1 } }),
  },
  {
    rule: "READ_WRITE not allowed, session limit reached",
    expected: "FORBIDDEN",
    situation: () => situation({ activeSessions: 1, policy: { ...readOnlyOnly, maxActiveSessionsPerImpersonator: 1 }, mode: "READ_WRITE" }),
  },
];

/** What the real calls get: createImpersonationToken, then its exchange by the project's backend. */
async function realSequence(s: Situation): Promise<string | null> {
  const created = await createModeToken(t, s.caller.credential, { projectId: s.projectId, userId: s.userId, mode: s.mode });
  if (created.errors) return codeOf(created)!;
  const exchanged = await exchange(t, s.backend, created.data!.createImpersonationToken.token);
  return codeOf(exchanged) ?? null;
}

/** The same, from a request another ADMIN approved. */
async function approvedSequence(s: Situation): Promise<string | null> {
  const request = await openRequest(t, world, s.caller, { projectId: s.projectId, userId: s.userId, mode: s.mode });
  expectOk(await approve(t, world.admin.credential, request.id));
  const created = await tokenFromRequest(t, s.caller.credential, request);
  if (created.errors) return codeOf(created)!;
  return codeOf(await exchange(t, s.backend, created.data!.createImpersonationToken.token)) ?? null;
}

describe("impersonationCheck agrees with the real calls", () => {
  it.each(cases)("$rule → $expected", async (c) => {
    const s = await c.situation();
    const writes = async () => [await countRows(t, "audit_events"), await countRows(t, "impersonation_tokens"), await countRows(t, "sessions")];
    const before = await writes();
    const check = expectOk(await gql(t.url, s.caller.credential, ImpersonationCheckDocument, { projectId: s.projectId, userId: s.userId, mode: s.mode })).impersonationCheck;
    // Asking changes nothing.
    expect(await writes()).toEqual(before);

    const real = await realSequence(s);
    expect(real, "the real sequence").toBe(c.expected);
    expect(check.reasonCode, "the check's reasonCode").toBe(real);
    expect(check.allowed).toBe(check.reasonCode === null);
    expect(check.requiresApproval).toBe(check.reasonCode === "APPROVAL_REQUIRED");
    if (check.reasonCode === null) expect(check.message).toBeNull();
    else expect(check.message).toEqual(expect.any(String));

    if (c.withApproval !== undefined) expect(await approvedSequence(s), "the sequence from an approved request").toBe(c.withApproval);
  });

  it("answers for the calling member: the same user, another caller, another answer", async () => {
    const s = await situation({ activeSessions: 1, policy: { maxActiveSessionsPerImpersonator: 1 } });
    const ask = (member: Member) => gql(t.url, member.credential, ImpersonationCheckDocument, { projectId: s.projectId, userId: s.userId });
    expect(expectOk(await ask(s.caller)).impersonationCheck.reasonCode).toBe("IMPERSONATION_LIMIT_REACHED");
    expect(expectOk(await ask(world.developer)).impersonationCheck).toMatchObject({ allowed: true, reasonCode: null });
    expect(expectOk(await ask(world.viewer)).impersonationCheck).toMatchObject({ allowed: false, requiresApproval: false, reasonCode: "FORBIDDEN" });
  });
});
