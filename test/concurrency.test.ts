import { describe, expect, it } from "vitest";
import { gql } from "./harness/client.js";
import { AUTHENTICATE_SESSION, AUTHENTICATE_TOKEN, auditRows, codeOf, countRows, createToken, newUser, openSession, REVOKE_SESSION } from "./harness/core-operations.js";
import { useTestWorld } from "./harness/test-world.js";

const { t, world } = useTestWorld();

function tally(codes: Array<string | undefined>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code ?? "success"] = (counts[code ?? "success"] ?? 0) + 1;
  return counts;
}

describe("single use under concurrency", () => {
  it("lets exactly one of 50 concurrent exchanges of one token win", async () => {
    // A user of its own, so that every row and event below belongs to this token.
    const userId = await newUser(t, world);
    const { token } = await createToken(t, world, { userId });

    const results = await Promise.all(Array.from({ length: 50 }, () => gql(t.url, world.backend, AUTHENTICATE_TOKEN, { token })));

    expect(tally(results.map(codeOf))).toEqual({ success: 1, IMPERSONATION_TOKEN_ALREADY_USED: 49 });
    const winner = results.find((result) => !result.errors)!;
    const sessionId = winner.data!.authenticateImpersonationToken.session.id;

    expect(await countRows(t, "sessions", "user_id = ?", [userId])).toBe(1);
    expect(await countRows(t, "sessions", "id = ?", [sessionId])).toBe(1);

    const events = await auditRows(t, "action = ? and user_id = ?", ["AuthenticateImpersonationToken", userId]);
    const successes = events.filter((event) => event.status === "SUCCESS");
    const failures = events.filter((event) => event.status === "FAILURE");
    expect(successes).toHaveLength(1);
    expect(successes[0]).toMatchObject({ session_id: sessionId, event_type: "direct.user.impersonate", error_code: null });
    expect(failures).toHaveLength(49);
    expect(new Set(failures.map((event) => event.error_code))).toEqual(new Set(["IMPERSONATION_TOKEN_ALREADY_USED"]));
    expect(failures.every((event) => event.session_id === null)).toBe(true);
  });

  it("revokes a session once under 20 concurrent revocations; the rest are audited no-ops", async () => {
    const { session, sessionToken } = await openSession(t, world);

    const results = await Promise.all(Array.from({ length: 20 }, () => gql(t.url, world.backend, REVOKE_SESSION, { sessionId: session.id })));

    expect(tally(results.map(codeOf))).toEqual({ success: 20 });
    const revokedAt = new Set(results.map((result) => result.data!.revokeSession.session.revokedAt));
    expect(revokedAt.size).toBe(1);
    expect([...revokedAt][0]).not.toBeNull();

    const events = await auditRows(t, "action = ? and session_id = ?", ["RevokeSession", session.id]);
    expect(events).toHaveLength(20);
    expect(events.every((event) => event.status === "SUCCESS")).toBe(true);
    const real = events.filter((event) => !(event.details ?? "").includes("noop"));
    expect(real).toHaveLength(1);
    expect(events.filter((event) => (event.details ?? "").includes("noop"))).toHaveLength(19);

    const after = await gql(t.url, world.backend, AUTHENTICATE_SESSION, { sessionToken });
    expect(codeOf(after)).toBe("SESSION_REVOKED");
  });
});
