import { beforeEach, describe, expect, it } from "vitest";
import { SessionLimitDocument, SetSessionLimitDocument } from "./__generated__/graphql.js";
import { gql } from "./harness/client.js";
import {
  AUTHENTICATE_TOKEN,
  REVOKE_SESSION,
  auditRows,
  codeOf,
  createToken,
  expectCode,
  expectOk,
  sql,
} from "./harness/core-operations.js";
import type { Member } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";

/** SPEC §9, limits: maxActiveSessionsPerImpersonator, enforced at exchange time, on the vitest project's database. */
const { t, world } = useTestWorld();

function setLimit(limit: number | null | undefined) {
  const input = limit === undefined ? { tokenTtlSeconds: 300 } : { maxActiveSessionsPerImpersonator: limit };
  return gql(t.url, world.admin.credential, SetSessionLimitDocument, { projectId: world.projectId, input });
}

async function limitNow(): Promise<number | null | undefined> {
  return expectOk(await gql(t.url, world.viewer.credential, SessionLimitDocument, { projectId: world.projectId })).impersonationPolicy
    .maxActiveSessionsPerImpersonator;
}

function exchange(token: string) {
  return gql(t.url, world.backend, AUTHENTICATE_TOKEN, { token });
}

async function tokens(count: number, member: Member = world.supportManager): Promise<string[]> {
  const made: string[] = [];
  for (let i = 0; i < count; i++) made.push((await createToken(t, world, { member })).token);
  return made;
}

async function usedAt(token: string): Promise<unknown> {
  const { hashSecret } = await import("../src/auth/secrets.js");
  const rows = await sql<{ used_at: unknown }>(t, "select used_at from impersonation_tokens where token_hash = ?", [hashSecret(token)]);
  return rows[0]!.used_at;
}

beforeEach(async () => {
  // Every earlier test's sessions (an hour long) and tokens expire: each test starts with free slots.
  t.clock.advance(61 * 60 * 1000);
  expectOk(await setLimit(null));
});

describe("maxActiveSessionsPerImpersonator", () => {
  it("refuses the exchange past the limit with IMPERSONATION_LIMIT_REACHED, audited, and the token stays usable", async () => {
    expect(expectOk(await setLimit(2)).setImpersonationPolicy.maxActiveSessionsPerImpersonator).toBe(2);
    const [a, b, c] = await tokens(3);
    const first = expectOk(await exchange(a!)).authenticateImpersonationToken;
    expectOk(await exchange(b!));
    const refused = await exchange(c!);
    expectCode(refused, "IMPERSONATION_LIMIT_REACHED");
    expect(await usedAt(c!)).toBeNull();
    const failures = await auditRows(t, "action = ? and status = ? and error_code = ?", [
      "AuthenticateImpersonationToken",
      "FAILURE",
      "IMPERSONATION_LIMIT_REACHED",
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ project_id: world.projectId, impersonator_id: world.supportManager.id });

    // A slot frees up: the same token now exchanges.
    expectOk(await gql(t.url, world.backend, REVOKE_SESSION, { sessionId: first.session.id }));
    expectOk(await exchange(c!));
    expect(await usedAt(c!)).not.toBeNull();
  });

  it("lets exactly as many of 50 racing exchanges succeed as the limit allows", async () => {
    expectOk(await setLimit(3));
    const all = await tokens(50);
    const results = await Promise.all(all.map((token) => exchange(token)));
    const codes = results.map((result) => codeOf(result) ?? "OK");
    expect(codes.filter((code) => code === "OK")).toHaveLength(3);
    expect(codes.filter((code) => code === "IMPERSONATION_LIMIT_REACHED")).toHaveLength(47);
    const active = await sql<{ n: number | string }>(
      t,
      "select count(*) as n from sessions where project_id = ? and impersonator_id = ? and revoked_at is null and expires_at > ?",
      [world.projectId, world.supportManager.id, t.clock.now()],
    );
    expect(Number(active[0]!.n)).toBe(3);
  });

  it("counts per impersonator: another impersonator is not affected", async () => {
    expectOk(await setLimit(1));
    const [mine, mineAgain] = await tokens(2);
    expectOk(await exchange(mine!));
    expectCode(await exchange(mineAgain!), "IMPERSONATION_LIMIT_REACHED");
    const [theirs] = await tokens(1, world.admin);
    expectOk(await exchange(theirs!));
  });

  it("does not count an expired session", async () => {
    expectOk(await setLimit(1));
    const [first] = await tokens(1);
    expectOk(await exchange(first!));
    const [second] = await tokens(1);
    expectCode(await exchange(second!), "IMPERSONATION_LIMIT_REACHED");
    // The session's hour passes; a new token (the old one expired too) exchanges.
    t.clock.advance(60 * 60 * 1000 + 1000);
    expectCode(await exchange(second!), "IMPERSONATION_TOKEN_EXPIRED");
    const [third] = await tokens(1);
    expectOk(await exchange(third!));
  });

  it("null means no limit", async () => {
    expectOk(await setLimit(1));
    expect(expectOk(await setLimit(null)).setImpersonationPolicy.maxActiveSessionsPerImpersonator).toBeNull();
    for (const token of await tokens(5)) expectOk(await exchange(token));
  });

  it("validates the input: 1 to 100; null clears; absent leaves it", async () => {
    for (const bad of [0, 101, -1]) expectCode(await setLimit(bad), "BAD_USER_INPUT");
    expect(await limitNow()).toBeNull();
    expectOk(await setLimit(100));
    expectOk(await setLimit(1));
    expectOk(await setLimit(undefined));
    expect(await limitNow()).toBe(1);
    expectOk(await setLimit(null));
    expect(await limitNow()).toBeNull();
  });

  it("audits the policy change with old and new values", async () => {
    expectOk(await setLimit(7));
    expectOk(await setLimit(4));
    const events = await auditRows(t, "project_id = ? and action = ? and status = ?", [world.projectId, "SetImpersonationPolicy", "SUCCESS"]);
    const raw = events.at(-1)!.details as unknown;
    const details = (typeof raw === "string" ? JSON.parse(raw) : raw) as { old: Record<string, unknown>; new: Record<string, unknown> };
    expect(details.old.maxActiveSessionsPerImpersonator).toBe(7);
    expect(details.new.maxActiveSessionsPerImpersonator).toBe(4);
  });
});
