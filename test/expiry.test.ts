import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { gql } from "./harness/client.js";
import { AUTHENTICATE_SESSION, AUTHENTICATE_TOKEN, codeOf, createToken, expectCode, expectOk, openSession, setPolicy } from "./harness/core-operations.js";
import { useTestWorld } from "./harness/test-world.js";

const { t, world } = useTestWorld();

const seconds = (iso: string | Date) => Math.floor(new Date(iso).getTime() / 1000);
const exchange = (token: string) => gql(t.url, world.backend, AUTHENTICATE_TOKEN, { token });
const authenticate = (locator: { sessionToken?: string; sessionJwt?: string }) => gql(t.url, world.backend, AUTHENTICATE_SESSION, locator);

describe("impersonation token TTL", () => {
  it("is valid one second before its TTL", async () => {
    const { token, expiresAt } = await createToken(t, world);
    expect(new Date(expiresAt).getTime() - t.clock.now().getTime()).toBe(300_000);
    t.clock.advanceSeconds(299);
    expectOk(await exchange(token));
  });

  it("is expired exactly at its TTL", async () => {
    const { token } = await createToken(t, world);
    t.clock.advanceSeconds(300);
    expectCode(await exchange(token), "IMPERSONATION_TOKEN_EXPIRED");
  });

  it("follows a tokenTtlSeconds change for tokens created after it, not before", async () => {
    const before = await createToken(t, world);
    await setPolicy(t, world, { tokenTtlSeconds: 60 });
    try {
      const after = await createToken(t, world);
      expect(new Date(after.expiresAt).getTime() - t.clock.now().getTime()).toBe(60_000);
      expect(new Date(before.expiresAt).getTime() - t.clock.now().getTime()).toBe(300_000);

      const second = await createToken(t, world);
      t.clock.advanceSeconds(59);
      expectOk(await exchange(after.token));
      t.clock.advanceSeconds(1);
      expectCode(await exchange(second.token), "IMPERSONATION_TOKEN_EXPIRED");
      // The token created under the old TTL keeps its own expiry.
      expectOk(await exchange(before.token));
    } finally {
      await setPolicy(t, world, { tokenTtlSeconds: 300 });
    }
  });
});

describe("the session hour", () => {
  it("lasts exactly 60 minutes from its start", async () => {
    const { session } = await openSession(t, world);
    expect(session.startedAt).toBe(t.clock.now().toISOString());
    expect(new Date(session.expiresAt).getTime() - new Date(session.startedAt).getTime()).toBe(60 * 60_000);
  });

  it("authenticates at 59:59 and is SESSION_EXPIRED at 60:00, by token and by JWT", async () => {
    const { sessionToken, sessionJwt } = await openSession(t, world);
    t.clock.advance(59 * 60_000 + 59_000);
    expectOk(await authenticate({ sessionToken }));
    expectOk(await authenticate({ sessionJwt }));
    t.clock.advance(1_000);
    expectCode(await authenticate({ sessionToken }), "SESSION_EXPIRED");
    expectCode(await authenticate({ sessionJwt }), "SESSION_EXPIRED");
  });

  it("updates lastAccessedAt on each authentication and never moves expiresAt", async () => {
    const { sessionToken, session } = await openSession(t, world);
    expect(session.lastAccessedAt).toBe(session.startedAt);
    for (const minutes of [1, 20, 30]) {
      t.clock.advance(minutes * 60_000);
      const data = expectOk(await authenticate({ sessionToken }));
      const current = data.authenticateSession.session;
      expect(current.lastAccessedAt).toBe(t.clock.now().toISOString());
      expect(current.startedAt).toBe(session.startedAt);
      expect(current.expiresAt).toBe(session.expiresAt);
    }
    // An attempt to extend is refused and changes nothing.
    expectCode(await gql(t.url, world.backend, AUTHENTICATE_SESSION, { sessionToken, sessionDurationMinutes: 60 }), "BAD_USER_INPUT");
    const last = expectOk(await authenticate({ sessionToken })).authenticateSession.session;
    expect(last.expiresAt).toBe(session.expiresAt);
    t.clock.advance(60 * 60_000 - 51 * 60_000);
    expectCode(await authenticate({ sessionToken }), "SESSION_EXPIRED");
  });
});

describe("sessionJwt lifetime", () => {
  it("has exp = iat + 5 minutes while the session has longer to live", async () => {
    const { sessionJwt, sessionToken, session } = await openSession(t, world);
    const claims = decodeJwt(sessionJwt);
    expect(claims.iat).toBe(seconds(t.clock.now()));
    expect(claims.exp).toBe(claims.iat! + 300);
    expect(claims.exp!).toBeLessThanOrEqual(seconds(session.expiresAt));

    t.clock.advance(30 * 60_000);
    const fresh = decodeJwt(expectOk(await authenticate({ sessionToken })).authenticateSession.sessionJwt);
    expect(fresh.iat).toBe(seconds(t.clock.now()));
    expect(fresh.exp).toBe(fresh.iat! + 300);
  });

  it("never outlives its session: with less than 5 minutes left, exp is the session's expiry", async () => {
    const { sessionToken, session } = await openSession(t, world);
    t.clock.advance(57 * 60_000 + 30_000); // 2m30s left
    const fresh = decodeJwt(expectOk(await authenticate({ sessionToken })).authenticateSession.sessionJwt);
    expect(fresh.exp).toBe(seconds(session.expiresAt));
    expect(fresh.exp!).toBeLessThanOrEqual(fresh.iat! + 300);
    expect(fresh.exp! - fresh.iat!).toBe(150);
  });

  it("still authenticates after its exp while the session is active, and returns a fresh JWT", async () => {
    const { sessionJwt, session } = await openSession(t, world);
    const stale = decodeJwt(sessionJwt);
    t.clock.advance(10 * 60_000);
    expect(seconds(t.clock.now())).toBeGreaterThan(stale.exp!);

    const data = expectOk(await authenticate({ sessionJwt })).authenticateSession;
    expect(data.session.id).toBe(session.id);
    const fresh = decodeJwt(data.sessionJwt);
    expect(data.sessionJwt).not.toBe(sessionJwt);
    expect(fresh.iat).toBe(seconds(t.clock.now()));
    expect(fresh.exp).toBe(fresh.iat! + 300);
    expect(fresh.sid).toBe(stale.sid);
    expect(codeOf(await authenticate({ sessionJwt: data.sessionJwt }))).toBeUndefined();
  });
});
