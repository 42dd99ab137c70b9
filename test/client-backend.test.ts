import { MasqueradeClient, MasqueradeError, requireWritable, type MasqueradeClientOptions } from "@masquerade/client";
import {
  CreateImpersonationTokenDocument,
  CreateProjectDocument,
  CreateUserDocument,
  RotateSigningKeyDocument,
  SetImpersonationPolicyDocument,
  UpdateUserDocument,
} from "@masquerade/client/operations";
import { decodeProtectedHeader, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { createServer } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { signCompactEs256 } from "../src/auth/jws-es256.js";
import { keyActivationDelayMs } from "../src/modules/signing-keys/signing-key.service.js";
import { gqlOk } from "./harness/client.js";
import type { Member } from "./harness/fixtures.js";
import { useTestWorld, type TestWorld } from "./harness/test-world.js";

/**
 * The backend half of @masquerade/client (SPEC §11), compiled as a consumer gets it, against the
 * real server: every method, the error codes each can surface, and local JWT verification
 * (JWKS cache and rotation, forged JWTs, clock skew). The SDK reads the server's fake clock.
 */
const { t, world } = useTestWorld();

/**
 * A client of the world's project; `fetches` counts every request it makes, by path. Like SPEC §11's,
 * it names no issuer: it reaches the server at http://127.0.0.1:<port>, and the server's PUBLIC_URL
 * (the JWTs' `iss`) is http://localhost:<port>, which the JWKS announces.
 */
function clientFor(tw: TestWorld, options: Partial<MasqueradeClientOptions> = {}) {
  const fetches: string[] = [];
  const client = new MasqueradeClient({
    url: tw.t.url,
    projectId: tw.world.projectId,
    projectSecret: tw.world.projectSecret,
    clock: tw.t.clock,
    fetch: (input, init) => {
      fetches.push(new URL(String(input)).pathname);
      return fetch(input, init);
    },
    ...options,
  });
  return { client, fetches };
}

async function issue(member: Member = world.supportManager, projectId = world.projectId, userId = world.userId, mode?: "READ_ONLY" | "READ_WRITE") {
  const data = await gqlOk(t.url, member.credential, CreateImpersonationTokenDocument, { input: { projectId, userId, reason: "Ticket 14: the SDK", mode } });
  return data.createImpersonationToken;
}

async function rejection(promise: Promise<unknown>): Promise<MasqueradeError> {
  const error = await promise.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error, "expected a MasqueradeError").toBeInstanceOf(MasqueradeError);
  return error as MasqueradeError;
}

const codeOf = async (promise: Promise<unknown>) => (await rejection(promise)).code;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwtParts = (jwt: string) => {
  const [header, payload, signature] = jwt.split(".") as [string, string, string];
  return { header, payload, signature, claims: JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown> };
};

/** A JWT with these claims, signed by the server's own current key (so published in its JWKS). */
function signedByServer(app: TestWorld["t"]["app"], claims: Record<string, unknown>): string {
  const { kid, key } = app.services.signingKeys.signingKey();
  return signCompactEs256({ alg: "ES256", kid, typ: "JWT" }, claims, key);
}

describe("impersonation.authenticate", () => {
  it("exchanges a token for a session: the session, its user, its token and a JWT", async () => {
    const { client } = clientFor({ t, world });
    const { token } = await issue();
    const started = t.clock.now();
    const result = await client.impersonation.authenticate(token);
    expect(result.sessionToken).toMatch(/^mq_sess_/);
    expect(result.requestId).toMatch(/\S/);
    expect(result.userId).toBe(world.userId);
    expect(result.user).toEqual({ id: world.userId, email: "jane@customer.com", name: "Jane" });
    expect(result.session).toEqual({
      sessionId: expect.any(String),
      userId: world.userId,
      projectId: world.projectId,
      impersonator: { id: world.supportManager.id, email: world.supportManager.email },
      mode: "READ_WRITE",
      expiresAt: new Date(started.getTime() + 60 * 60_000),
    });
    expect((await client.sessions.authenticateJwt(result.sessionJwt)).sessionId).toBe(result.session.sessionId);
  });

  it("surfaces the server's codes: unknown, already used, expired token; wrong secret", async () => {
    const { client } = clientFor({ t, world });
    expect(await codeOf(client.impersonation.authenticate("mq_imp_not-a-real-token"))).toBe("IMPERSONATION_TOKEN_NOT_FOUND");

    const used = await issue();
    await client.impersonation.authenticate(used.token);
    expect(await codeOf(client.impersonation.authenticate(used.token))).toBe("IMPERSONATION_TOKEN_ALREADY_USED");

    const late = await issue();
    t.clock.advanceSeconds(301);
    expect(await codeOf(client.impersonation.authenticate(late.token))).toBe("IMPERSONATION_TOKEN_EXPIRED");

    const other = await issue(world.supportManager, world.other.projectId, world.other.userId);
    expect(await codeOf(client.impersonation.authenticate(other.token))).toBe("IMPERSONATION_TOKEN_NOT_FOUND");

    const wrongSecret = clientFor({ t, world }, { projectSecret: "mq_secret_wrong" }).client;
    const error = await rejection(wrongSecret.impersonation.authenticate((await issue()).token));
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.message).not.toContain("mq_secret_wrong");
  });

  it("surfaces the policy's refusals: IMPERSONATION_LIMIT_REACHED, APPROVAL_REQUIRED, IMPERSONATION_DISABLED", async () => {
    const created = (await gqlOk(t.url, world.admin.credential, CreateProjectDocument, { input: { name: "SDK policies", loginRedirectUrl: "https://sdk.example.com/authenticate" } })).createProject;
    const projectId = created.project.id;
    const client = new MasqueradeClient({ url: t.url, projectId, projectSecret: created.secret, clock: t.clock });
    const userId = (await gqlOk(t.url, world.admin.credential, CreateUserDocument, { input: { projectId, email: "pat@sdk.example.com" } })).createUser.id;
    const setPolicy = (input: Record<string, unknown>) => gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId, input });

    await setPolicy({ allowImpersonation: true, maxActiveSessionsPerImpersonator: 1 });
    await client.impersonation.authenticate((await issue(world.supportManager, projectId, userId)).token);
    expect(await codeOf(client.impersonation.authenticate((await issue(world.supportManager, projectId, userId)).token))).toBe("IMPERSONATION_LIMIT_REACHED");

    const beforeProtection = await issue(world.developer, projectId, userId);
    await gqlOk(t.url, world.admin.credential, UpdateUserDocument, { projectId, id: userId, input: { protected: true } });
    expect(await codeOf(client.impersonation.authenticate(beforeProtection.token))).toBe("APPROVAL_REQUIRED");
    await gqlOk(t.url, world.admin.credential, UpdateUserDocument, { projectId, id: userId, input: { protected: false } });

    const pending = await issue(world.admin, projectId, userId);
    await setPolicy({ allowImpersonation: false });
    expect(await codeOf(client.impersonation.authenticate(pending.token))).toBe("IMPERSONATION_DISABLED");
    // Turning the policy off voided the outstanding tokens; re-enabling does not revive them.
    await setPolicy({ allowImpersonation: true });
    expect(await codeOf(client.impersonation.authenticate(pending.token))).toBe("IMPERSONATION_TOKEN_NOT_FOUND");
  });

  it("refuses bad arguments before any request, with BAD_USER_INPUT", async () => {
    const { client, fetches } = clientFor({ t, world });
    expect(await codeOf(client.sessions.authenticate({} as { sessionToken: string }))).toBe("BAD_USER_INPUT");
    expect(await codeOf(client.sessions.authenticate({ sessionToken: "a", sessionJwt: "b" } as unknown as { sessionToken: string }))).toBe("BAD_USER_INPUT");
    expect(await codeOf(client.sessions.revoke({ sessionId: 42 } as unknown as { sessionId: string }))).toBe("BAD_USER_INPUT");
    expect(fetches).toEqual([]);
    expect(() => new MasqueradeClient({ url: t.url, projectId: world.projectId, projectSecret: "" })).toThrow(MasqueradeError);
  });

  it("says NETWORK_ERROR when the server cannot be reached or does not answer GraphQL", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const unreachable = clientFor({ t, world }, { url: `http://127.0.0.1:${closedPort}` }).client;
    const error = await rejection(unreachable.impersonation.authenticate("mq_imp_x"));
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.message).toContain(`127.0.0.1:${closedPort}`);
    expect(await codeOf(unreachable.sessions.authenticateJwt((await clientFor({ t, world }).client.impersonation.authenticate((await issue()).token)).sessionJwt))).toBe(
      "NETWORK_ERROR",
    );

    // /healthz is not GraphQL: the SDK says so rather than returning nonsense.
    const notGraphql = clientFor({ t, world }, { url: `${t.baseUrl}/healthz/graphql` }).client;
    expect(await codeOf(notGraphql.impersonation.authenticate("mq_imp_x"))).toBe("NETWORK_ERROR");
  });
});

describe("sessions.authenticate and sessions.revoke", () => {
  it("authenticates by token and by JWT with a fresh JWT; refuses a revoked session at once", async () => {
    const { client } = clientFor({ t, world });
    const exchanged = await client.impersonation.authenticate((await issue()).token);
    t.clock.advanceSeconds(2);
    const byToken = await client.sessions.authenticate({ sessionToken: exchanged.sessionToken });
    expect(byToken.session).toEqual(exchanged.session);
    expect(byToken.user.id).toBe(world.userId);
    expect(byToken.sessionJwt).not.toBe(exchanged.sessionJwt);
    const byJwt = await client.sessions.authenticate({ sessionJwt: byToken.sessionJwt });
    expect(byJwt.session.sessionId).toBe(exchanged.session.sessionId);

    const revoked = await client.sessions.revoke({ sessionId: exchanged.session.sessionId });
    expect(revoked.session.revokedAt).toEqual(t.clock.now());
    expect(revoked.requestId).toMatch(/\S/);
    expect(await codeOf(client.sessions.authenticate({ sessionToken: exchanged.sessionToken }))).toBe("SESSION_REVOKED");
    expect(await codeOf(client.sessions.authenticate({ sessionJwt: byJwt.sessionJwt }))).toBe("SESSION_REVOKED");
    // Revoking again succeeds and changes nothing.
    expect((await client.sessions.revoke({ sessionToken: exchanged.sessionToken })).session.revokedAt).toEqual(revoked.session.revokedAt);
  });

  it("revokes by session token and by JWT", async () => {
    const { client } = clientFor({ t, world });
    for (const by of ["sessionToken", "sessionJwt"] as const) {
      const exchanged = await client.impersonation.authenticate((await issue()).token);
      const reference = by === "sessionToken" ? { sessionToken: exchanged.sessionToken } : { sessionJwt: exchanged.sessionJwt };
      expect((await client.sessions.revoke(reference)).session.sessionId).toBe(exchanged.session.sessionId);
      expect(await codeOf(client.sessions.authenticate({ sessionToken: exchanged.sessionToken }))).toBe("SESSION_REVOKED");
    }
  });

  it("says SESSION_NOT_FOUND for an unknown session or another project's, and SESSION_EXPIRED after the hour", async () => {
    const { client } = clientFor({ t, world });
    expect(await codeOf(client.sessions.authenticate({ sessionToken: "mq_sess_unknown" }))).toBe("SESSION_NOT_FOUND");
    expect(await codeOf(client.sessions.revoke({ sessionId: "session-unknown" }))).toMatch(/^(SESSION_NOT_FOUND|NOT_FOUND)$/);

    const exchanged = await client.impersonation.authenticate((await issue()).token);
    t.clock.advance(60 * 60_000);
    expect(await codeOf(client.sessions.authenticate({ sessionToken: exchanged.sessionToken }))).toBe("SESSION_EXPIRED");
    expect(await codeOf(client.sessions.authenticateJwt(exchanged.sessionJwt))).toBe("SESSION_EXPIRED");
  });
});

describe("sessions.authenticateJwt: local verification", () => {
  it("returns the session the JWT describes, and asks the server nothing once it holds the keys", async () => {
    const { client, fetches } = clientFor({ t, world });
    const exchanged = await client.impersonation.authenticate((await issue(world.developer)).token);
    expect(await client.sessions.authenticateJwt(exchanged.sessionJwt)).toEqual({
      sessionId: exchanged.session.sessionId,
      userId: world.userId,
      projectId: world.projectId,
      impersonator: { id: world.developer.id, email: world.developer.email },
      mode: "READ_WRITE",
      expiresAt: exchanged.session.expiresAt,
    });
    expect(fetches).toEqual(["/graphql", "/.well-known/jwks.json"]);
    const second = await client.impersonation.authenticate((await issue()).token);
    fetches.length = 0;
    for (let i = 0; i < 50; i++) {
      await client.sessions.authenticateJwt(exchanged.sessionJwt);
      await client.sessions.authenticateJwt(second.sessionJwt);
    }
    expect(fetches).toEqual([]);
  });

  it("says when the session ends, as the other methods do, not when the JWT does; the JWT's exp for a JWT without session_exp", async () => {
    const { client } = clientFor({ t, world });
    const exchanged = await client.impersonation.authenticate((await issue()).token);
    expect(exchanged.session.expiresAt.getTime() - t.clock.now().getTime()).toBe(60 * 60_000);
    const { exp } = jwtParts(exchanged.sessionJwt).claims as { exp: number };
    expect(exp * 1000).toBeLessThan(exchanged.session.expiresAt.getTime());
    expect((await client.sessions.authenticateJwt(exchanged.sessionJwt)).expiresAt).toEqual(exchanged.session.expiresAt);

    // 50 minutes on, a refreshed JWT: the same end, the session's, to the millisecond.
    t.clock.advance(50 * 60_000);
    const refreshed = await client.sessions.authenticate({ sessionToken: exchanged.sessionToken });
    expect(refreshed.session.expiresAt).toEqual(exchanged.session.expiresAt);
    expect((await client.sessions.authenticateJwt(refreshed.sessionJwt)).expiresAt).toEqual(exchanged.session.expiresAt);

    // A JWT signed before the claim existed: only its own exp is known.
    const { session_exp: _sessionExp, ...olderClaims } = jwtParts(refreshed.sessionJwt).claims;
    const older = signedByServer(t.app, olderClaims);
    expect((await client.sessions.authenticateJwt(older)).expiresAt).toEqual(new Date((olderClaims.exp as number) * 1000));
  });

  it("keeps accepting a revoked session's JWT until it expires: the documented trade-off; the server refuses it", async () => {
    const { client } = clientFor({ t, world });
    const exchanged = await client.impersonation.authenticate((await issue()).token);
    await client.sessions.revoke({ sessionToken: exchanged.sessionToken });
    expect((await client.sessions.authenticateJwt(exchanged.sessionJwt)).sessionId).toBe(exchanged.session.sessionId);
    expect(await codeOf(client.sessions.authenticate({ sessionJwt: exchanged.sessionJwt }))).toBe("SESSION_REVOKED");
    t.clock.advanceSeconds(300 + 11);
    expect(await codeOf(client.sessions.authenticateJwt(exchanged.sessionJwt))).toBe("SESSION_EXPIRED");
  });

  it("tolerates 10 s of clock skew past exp, not more, whether the JWT was seen before or not", async () => {
    const { client } = clientFor({ t, world });
    const seen = await client.impersonation.authenticate((await issue()).token);
    const unseen = await client.impersonation.authenticate((await issue()).token);
    await client.sessions.authenticateJwt(seen.sessionJwt);
    const exp = (jwtParts(seen.sessionJwt).claims as { exp: number }).exp;
    expect((jwtParts(unseen.sessionJwt).claims as { exp: number }).exp).toBe(exp);

    // The backend's clock runs 9 s past the JWT's exp: still accepted.
    const skewed = (seconds: number) => clientFor({ t, world }, { clock: { now: () => new Date((exp + seconds) * 1000) } }).client;
    const behind = skewed(9);
    expect((await behind.sessions.authenticateJwt(seen.sessionJwt)).sessionId).toBe(seen.session.sessionId);
    expect((await skewed(9).sessions.authenticateJwt(unseen.sessionJwt)).sessionId).toBe(unseen.session.sessionId);
    // 10 s past: refused, also for a JWT the client verified before.
    expect(await codeOf(skewed(10).sessions.authenticateJwt(unseen.sessionJwt))).toBe("SESSION_EXPIRED");
    t.clock.set(new Date((exp + 10) * 1000));
    expect(await codeOf(client.sessions.authenticateJwt(seen.sessionJwt))).toBe("SESSION_EXPIRED");
    // A larger tolerance is an option (at most 60 s).
    expect((await skewed(30).sessions.authenticateJwt(seen.sessionJwt).catch((e: MasqueradeError) => e.code))).toBe("SESSION_EXPIRED");
    const lenient = clientFor({ t, world }, { clockToleranceSeconds: 60, clock: { now: () => new Date((exp + 30) * 1000) } }).client;
    expect((await lenient.sessions.authenticateJwt(seen.sessionJwt)).sessionId).toBe(seen.session.sessionId);
    expect(() => clientFor({ t, world }, { clockToleranceSeconds: 61 })).toThrow(MasqueradeError);
  });

  describe("refuses forged JWTs with SESSION_NOT_FOUND", () => {
    let genuine: string;
    let client: MasqueradeClient;
    beforeAll(async () => {
      client = clientFor({ t, world }).client;
      genuine = (await client.impersonation.authenticate((await issue()).token)).sessionJwt;
      await client.sessions.authenticateJwt(genuine);
    });
    const refused = async (jwt: string) => expect(await codeOf(client.sessions.authenticateJwt(jwt))).toBe("SESSION_NOT_FOUND");

    it("a tampered payload or signature", async () => {
      const { header, claims, signature, payload } = jwtParts(genuine);
      await refused(`${header}.${b64({ ...claims, act: { sub: world.admin.id, email: world.admin.email } })}.${signature}`);
      await refused(`${header}.${b64({ ...claims, imp: { mode: "read_write" }, exp: (claims.exp as number) + 3600 })}.${signature}`);
      const bytes = Buffer.from(signature, "base64url");
      bytes[5] = bytes[5]! ^ 0xff;
      await refused(`${header}.${payload}.${bytes.toString("base64url")}`);
      await refused(`${header}.${payload}.`);
      await refused("not a jwt");
      await refused("");
    });

    it('alg "none", and HS256 keyed with the public key (algorithm confusion)', async () => {
      const { payload } = jwtParts(genuine);
      const { kid } = decodeProtectedHeader(genuine);
      await refused(`${b64({ alg: "none", typ: "JWT", kid })}.${payload}.`);
      await refused(`${b64({ alg: "none", typ: "JWT" })}.${payload}.`);
      const jwks = (await (await fetch(`${t.baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      const jwk = jwks.keys.find((key) => key.kid === kid)!;
      const spki = await exportSPKI((await importJWK(jwk, "ES256")) as Parameters<typeof exportSPKI>[0]);
      await refused(await new SignJWT(jwtParts(genuine).claims).setProtectedHeader({ alg: "HS256", typ: "JWT", kid }).sign(new TextEncoder().encode(spki)));
    });

    it("signed by a foreign key, under the real kid, an unknown kid or none", async () => {
      const foreign = await generateKeyPair("ES256");
      const { kid } = decodeProtectedHeader(genuine);
      const claims = jwtParts(genuine).claims;
      await refused(await new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "JWT", kid }).sign(foreign.privateKey));
      await refused(await new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "JWT", kid: "no-such-kid" }).sign(foreign.privateKey));
      await refused(await new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "JWT" }).sign(foreign.privateKey));
    });

    it("a genuine JWT of another project, or for another issuer", async () => {
      const otherProject = await gqlOk(t.url, world.admin.credential, CreateProjectDocument, { input: { name: "SDK other", loginRedirectUrl: "https://sdk-other.example.com/a" } });
      const otherProjectId = otherProject.createProject.project.id;
      await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: otherProjectId, input: { allowImpersonation: true } });
      const otherUser = (await gqlOk(t.url, world.admin.credential, CreateUserDocument, { input: { projectId: otherProjectId, email: "o@sdk-other.example.com" } })).createUser.id;
      const otherClient = new MasqueradeClient({ url: t.url, projectId: otherProjectId, projectSecret: otherProject.createProject.secret, clock: t.clock });
      const foreignJwt = (await otherClient.impersonation.authenticate((await issue(world.supportManager, otherProjectId, otherUser)).token)).sessionJwt;
      expect((await otherClient.sessions.authenticateJwt(foreignJwt)).projectId).toBe(otherProjectId);
      await refused(foreignJwt);

      const elsewhere = clientFor({ t, world }, { issuer: "https://masquerade.elsewhere.example" }).client;
      expect(await codeOf(elsewhere.sessions.authenticateJwt(genuine))).toBe("SESSION_NOT_FOUND");
    });
  });

  it("keeps verifying with the keys it holds while the server cannot be reached: no check waits on the network", async () => {
    let down = false;
    const attempts: string[] = [];
    const { client } = clientFor(
      { t, world },
      {
        jwksMaxAgeMs: 60_000,
        fetch: (input, init) => {
          attempts.push(new URL(String(input)).pathname);
          // Down: the request hangs until the client gives up on it.
          if (down) return new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
          return fetch(input, init);
        },
      },
    );
    const session = await client.impersonation.authenticate((await issue()).token);
    expect((await client.sessions.authenticateJwt(session.sessionJwt)).sessionId).toBe(session.session.sessionId);

    down = true;
    attempts.length = 0;
    t.clock.advanceSeconds(61);
    const started = performance.now();
    for (let i = 0; i < 20; i++) expect((await client.sessions.authenticateJwt(session.sessionJwt)).sessionId).toBe(session.session.sessionId);
    expect(performance.now() - started).toBeLessThan(2_000);
    // The stale set was refreshed once, in the background, however many checks came meanwhile.
    expect(attempts.filter((path) => path.endsWith("jwks.json"))).toEqual(["/.well-known/jwks.json"]);
  });

  it("verifies a JWT signed after a key rotation without a restart, and refetches the keys at most once per cooldown", async () => {
    const { client, fetches } = clientFor({ t, world });
    const before = await client.impersonation.authenticate((await issue()).token);
    await client.sessions.authenticateJwt(before.sessionJwt);
    const oldKid = decodeProtectedHeader(before.sessionJwt).kid;

    // A flood of JWTs naming unknown kids costs at most one JWKS request per cooldown (30 s).
    const foreign = await generateKeyPair("ES256");
    fetches.length = 0;
    for (let i = 0; i < 20; i++) {
      const forged = await new SignJWT(jwtParts(before.sessionJwt).claims).setProtectedHeader({ alg: "ES256", typ: "JWT", kid: `forged-${i}` }).sign(foreign.privateKey);
      expect(await codeOf(client.sessions.authenticateJwt(forged))).toBe("SESSION_NOT_FOUND");
    }
    expect(fetches.filter((path) => path.endsWith("jwks.json")).length).toBeLessThanOrEqual(1);

    const newKid = (await gqlOk(t.url, world.admin.credential, RotateSigningKeyDocument, {})).rotateSigningKey;
    expect(newKid).not.toBe(oldKid);
    t.clock.advance(keyActivationDelayMs);
    const after = await client.impersonation.authenticate((await issue()).token);
    expect(decodeProtectedHeader(after.sessionJwt).kid).toBe(newKid);
    fetches.length = 0;
    expect((await client.sessions.authenticateJwt(after.sessionJwt)).sessionId).toBe(after.session.sessionId);
    expect(fetches).toEqual(["/.well-known/jwks.json"]);
    // The JWT signed before the rotation still verifies (its key stays published).
    const refreshed = await client.sessions.authenticate({ sessionToken: before.sessionToken });
    expect(decodeProtectedHeader(refreshed.sessionJwt).kid).toBe(newKid);
    expect((await client.sessions.authenticateJwt(refreshed.sessionJwt)).sessionId).toBe(before.session.sessionId);
  });
});

describe("the issuer authenticateJwt expects, with the client constructed exactly as SPEC §11 does", () => {
  const publicUrl = "https://masquerade.example.com";
  const behindProxy = useTestWorld({ app: { env: { PUBLIC_URL: publicUrl } } });

  async function genuineJwt(): Promise<{ sessionJwt: string; sessionId: string }> {
    const { t: app, world: w } = behindProxy;
    const { token } = (await gqlOk(app.url, w.supportManager.credential, CreateImpersonationTokenDocument, { input: { projectId: w.projectId, userId: w.userId, reason: "Ticket 14: the issuer" } }))
      .createImpersonationToken;
    const exchanged = await clientFor(behindProxy).client.impersonation.authenticate(token);
    return { sessionJwt: exchanged.sessionJwt, sessionId: exchanged.session.sessionId };
  }

  it("takes the issuer the server's JWKS announces: a genuine JWT verifies, one with another iss does not", async () => {
    const { t: app, world: w } = behindProxy;
    const url = `http://127.0.0.1:${app.app.port}`;
    const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { issuer: string; keys: unknown[] };
    expect(jwks.issuer).toBe(publicUrl);

    // SPEC §11's constructor: url, projectId, projectSecret; no issuer, no clock, no fetch.
    const client = new MasqueradeClient({ url, projectId: w.projectId, projectSecret: w.projectSecret });
    const genuine = await genuineJwt();
    expect(jwtParts(genuine.sessionJwt).claims.iss).toBe(publicUrl);
    expect((await client.sessions.authenticateJwt(genuine.sessionJwt)).sessionId).toBe(genuine.sessionId);

    // Signed by the very key the JWKS publishes, but naming another issuer (the address the client
    // used, or a stranger): refused, so the check is of `iss` and not of the signature alone.
    const claims = jwtParts(genuine.sessionJwt).claims;
    for (const iss of [url, "https://masquerade.elsewhere.example", `${publicUrl}/`]) {
      expect(await codeOf(client.sessions.authenticateJwt(signedByServer(app.app, { ...claims, iss })))).toBe("SESSION_NOT_FOUND");
    }
    // The control: the same signing, with the announced issuer, verifies.
    expect((await client.sessions.authenticateJwt(signedByServer(app.app, { ...claims, iss: publicUrl, jti: "control" }))).sessionId).toBe(genuine.sessionId);
  });

  it("an explicit issuer option wins over the announced one", async () => {
    const { t: app, world: w } = behindProxy;
    const url = `http://127.0.0.1:${app.app.port}`;
    const genuine = await genuineJwt();
    const claims = jwtParts(genuine.sessionJwt).claims;
    const pinned = new MasqueradeClient({ url, projectId: w.projectId, projectSecret: w.projectSecret, issuer: "https://pinned.example" });
    expect(await codeOf(pinned.sessions.authenticateJwt(genuine.sessionJwt))).toBe("SESSION_NOT_FOUND");
    expect((await pinned.sessions.authenticateJwt(signedByServer(app.app, { ...claims, iss: "https://pinned.example" }))).sessionId).toBe(genuine.sessionId);
  });

  it("falls back to the url without /graphql for a server whose JWKS announces no issuer", async () => {
    const { t: app, world: w } = behindProxy;
    const url = `http://127.0.0.1:${app.app.port}`;
    // A JWKS as a server before this change served it: keys only.
    const keysOnly: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!new URL(String(input)).pathname.endsWith("/jwks.json")) return response;
      const { issuer: _issuer, ...rest } = (await response.json()) as { issuer?: string };
      return new Response(JSON.stringify(rest), { status: response.status, headers: { "content-type": "application/json" } });
    };
    const client = new MasqueradeClient({ url: `${url}/graphql`, projectId: w.projectId, projectSecret: w.projectSecret, fetch: keysOnly });
    const genuine = await genuineJwt();
    expect(await codeOf(client.sessions.authenticateJwt(genuine.sessionJwt))).toBe("SESSION_NOT_FOUND");
    const claims = jwtParts(genuine.sessionJwt).claims;
    expect((await client.sessions.authenticateJwt(signedByServer(app.app, { ...claims, iss: url }))).sessionId).toBe(genuine.sessionId);
  });
});

describe("requireWritable", () => {
  const refusal = (session: Parameters<typeof requireWritable>[0]) => {
    try {
      requireWritable(session);
    } catch (failure) {
      return failure;
    }
    return null;
  };

  it("lets a read-write impersonation through", async () => {
    const { client } = clientFor({ t, world });
    const exchanged = await client.impersonation.authenticate((await issue(world.supportManager, world.projectId, world.userId, "READ_WRITE")).token);
    const session = await client.sessions.authenticateJwt(exchanged.sessionJwt);
    expect(session.mode).toBe("READ_WRITE");
    expect(refusal(session)).toBeNull();
  });

  it("refuses a read-only impersonation (from the JWT's imp claim and from the server alike), and no session at all", async () => {
    const { client } = clientFor({ t, world });
    const exchanged = await client.impersonation.authenticate((await issue(world.supportManager, world.projectId, world.userId, "READ_ONLY")).token);
    expect(jwtParts(exchanged.sessionJwt).claims.imp).toEqual({ mode: "read_only" });
    const fromJwt = await client.sessions.authenticateJwt(exchanged.sessionJwt);
    const fromServer = (await client.sessions.authenticate({ sessionToken: exchanged.sessionToken })).session;
    for (const session of [exchanged.session, fromJwt, fromServer, null, undefined]) {
      expect(session?.mode ?? null).toBe(session ? "READ_ONLY" : null);
      const error = refusal(session);
      expect(error).toBeInstanceOf(MasqueradeError);
      expect(error).toMatchObject({ name: "MasqueradeError", code: "IMPERSONATION_READ_ONLY" });
    }
  });
});

describe("RATE_LIMITED", () => {
  const limited = useTestWorld({ app: { env: { RATE_LIMIT_FAILURE_BURST: "3" } } });

  it("is what the SDK reports once a client has guessed too many tokens", async () => {
    const { client } = clientFor(limited);
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) codes.push(await codeOf(client.impersonation.authenticate(`mq_imp_guess-${i}`)));
    expect(codes.slice(0, 3)).toEqual(["IMPERSONATION_TOKEN_NOT_FOUND", "IMPERSONATION_TOKEN_NOT_FOUND", "IMPERSONATION_TOKEN_NOT_FOUND"]);
    expect(codes.slice(3)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
  });
});
