import { createRemoteJWKSet, decodeProtectedHeader, exportSPKI, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { RotateSigningKeyDocument } from "./__generated__/graphql.js";
import { gql } from "./harness/client.js";
import { AUTHENTICATE_SESSION, codeOf, expectCode, expectOk, openSession, type StartedSession } from "./harness/core-operations.js";
import { useTestWorld } from "./harness/test-world.js";
import { keyActivationDelayMs, retiredKeyGraceMs } from "../src/modules/signing-keys/signing-key.service.js";

let started: StartedSession;

const { t, world } = useTestWorld();

beforeAll(async () => {
  started = await openSession(t, world);
});

const jwksUrl = () => new URL(`${t.baseUrl}/.well-known/jwks.json`);
const authenticateJwt = (sessionJwt: string) => gql(t.url, world.backend, AUTHENTICATE_SESSION, { sessionJwt });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const parts = (jwt: string) => {
  const [header, payload, signature] = jwt.split(".") as [string, string, string];
  return { header, payload, signature, claims: JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown> };
};

/** Verifies a JWT the way a client would: against the published JWKS, at the server's (fake) time. */
function verify(jwt: string) {
  return jwtVerify(jwt, createRemoteJWKSet(jwksUrl()), {
    issuer: t.app.publicUrl,
    audience: world.projectId,
    algorithms: ["ES256"],
    currentDate: t.clock.now(),
  });
}

async function publishedKeys(): Promise<JWK[]> {
  const response = await fetch(jwksUrl());
  expect(response.status).toBe(200);
  return ((await response.json()) as { keys: JWK[] }).keys;
}

describe("the session JWT", () => {
  it("verifies against the JWKS with ES256 and a kid, and carries the contract claims", async () => {
    const { payload, protectedHeader } = await verify(started.sessionJwt);
    expect(protectedHeader.alg).toBe("ES256");
    expect(typeof protectedHeader.kid).toBe("string");
    expect((await publishedKeys()).map((key) => key.kid)).toContain(protectedHeader.kid);

    // Without PUBLIC_URL the issuer is the server's own URL, with the port it got for PORT=0.
    expect(payload.iss).toBe(`http://localhost:${t.app.port}`);
    expect(payload.aud).toBe(world.projectId);
    expect(payload.sub).toBe(world.userId);
    expect(payload.sid).toBe(started.session.id);
    expect(payload.iat).toBe(Math.floor(new Date(started.session.startedAt).getTime() / 1000));
    expect(payload.exp).toBe(payload.iat! + 300);
    expect(payload.act).toEqual({ sub: world.supportManager.id, email: world.supportManager.email });
    // Beside the contract's claims, when the session ends (its milliseconds as a fraction), for
    // clients that report the session's end from the JWT alone; `imp` stays exactly `{ mode }`.
    expect(payload.session_exp).toBe(new Date(started.session.expiresAt).getTime() / 1000);
    expect(payload.imp).toEqual({ mode: "read_write" });
  });

  it("announces the issuer beside the keys (RFC 7517 §5: a JWK Set may carry other members)", async () => {
    const jwks = (await (await fetch(jwksUrl())).json()) as { issuer: unknown; keys: unknown[] };
    expect(jwks.issuer).toBe(t.app.publicUrl);
    expect(jwks.issuer).toBe(`http://localhost:${t.app.port}`);
  });

  it("publishes only public keys", async () => {
    for (const key of await publishedKeys()) {
      expect(key).not.toHaveProperty("d");
      expect(key.kty).toBe("EC");
      expect(key.alg).toBe("ES256");
    }
  });

  it("authenticates the session as it is (the control for the refusals below)", async () => {
    const data = expectOk(await authenticateJwt(started.sessionJwt));
    expect(data.authenticateSession.session.id).toBe(started.session.id);
  });
});

  it("refreshed twice in one second, carries that second's iat; a second later, a new one", async () => {
    const session = await openSession(t, world);
    const refresh = async () => expectOk(await authenticateJwt(session.sessionJwt)).authenticateSession.sessionJwt;
    const [first, second] = await Promise.all([refresh(), refresh()]);
    for (const jwt of [first, second]) {
      const { payload } = await verify(jwt);
      expect(payload.iat).toBe(Math.floor(t.clock.now().getTime() / 1000));
      expect(payload.sid).toBe(session.session.id);
    }
    t.clock.advance(1000);
    const later = await verify(await refresh());
    expect(later.payload.iat).toBe(Math.floor(t.clock.now().getTime() / 1000));
    expect(later.payload.exp).toBe(later.payload.iat! + 300);
  });

describe("forged JWTs are SESSION_NOT_FOUND", () => {
  it("a tampered payload with the original signature", async () => {
    const { header, claims, signature } = parts(started.sessionJwt);
    for (const forged of [{ ...claims, exp: (claims.exp as number) + 3600 }, { ...claims, act: { sub: world.admin.id, email: world.admin.email } }]) {
      expectCode(await authenticateJwt(`${header}.${b64(forged)}.${signature}`), "SESSION_NOT_FOUND");
    }
  });

  it("a tampered signature", async () => {
    const { header, payload, signature } = parts(started.sessionJwt);
    const bytes = Buffer.from(signature, "base64url");
    bytes[10] = bytes[10]! ^ 0xff;
    expectCode(await authenticateJwt(`${header}.${payload}.${bytes.toString("base64url")}`), "SESSION_NOT_FOUND");
    expectCode(await authenticateJwt(`${header}.${payload}.`), "SESSION_NOT_FOUND");
  });

  it('alg "none": the same claims, unsigned', async () => {
    const { header, payload } = parts(started.sessionJwt);
    const kid = decodeProtectedHeader(started.sessionJwt).kid;
    expectCode(await authenticateJwt(`${b64({ alg: "none", typ: "JWT", kid })}.${payload}.`), "SESSION_NOT_FOUND");
    expectCode(await authenticateJwt(`${b64({ alg: "none", typ: "JWT" })}.${payload}.`), "SESSION_NOT_FOUND");
    expect(header).not.toBe(b64({ alg: "none", typ: "JWT", kid }));
  });

  it("HS256 signed with the public key's bytes as the secret (algorithm confusion)", async () => {
    const { kid } = decodeProtectedHeader(started.sessionJwt);
    const jwk = (await publishedKeys()).find((key) => key.kid === kid)!;
    const publicKey = await importJWK(jwk, "ES256");
    const candidates = [
      new TextEncoder().encode(await exportSPKI(publicKey as Parameters<typeof exportSPKI>[0])),
      new TextEncoder().encode(JSON.stringify(jwk)),
      Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]),
    ];
    for (const secret of candidates) {
      const forged = await new SignJWT(parts(started.sessionJwt).claims).setProtectedHeader({ alg: "HS256", typ: "JWT", kid }).sign(secret);
      expectCode(await authenticateJwt(forged), "SESSION_NOT_FOUND");
    }
  });

  it("ES256 signed by a foreign key under the real kid", async () => {
    const { kid } = decodeProtectedHeader(started.sessionJwt);
    const foreign = await generateKeyPair("ES256");
    const forged = await new SignJWT(parts(started.sessionJwt).claims).setProtectedHeader({ alg: "ES256", typ: "JWT", kid }).sign(foreign.privateKey);
    expectCode(await authenticateJwt(forged), "SESSION_NOT_FOUND");
  });

  it("an unknown kid, or none", async () => {
    const foreign = await generateKeyPair("ES256");
    const claims = parts(started.sessionJwt).claims;
    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "JWT", kid: "no-such-kid" }).sign(foreign.privateKey);
    const noKid = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "JWT" }).sign(foreign.privateKey);
    expectCode(await authenticateJwt(unknownKid), "SESSION_NOT_FOUND");
    expectCode(await authenticateJwt(noKid), "SESSION_NOT_FOUND");
  });
});

describe("key rotation", () => {
  it("keeps JWTs already issued valid, publishes both keys and signs new JWTs with the new kid", async () => {
    const session = await openSession(t, world);
    const oldKid = decodeProtectedHeader(session.sessionJwt).kid!;

    const newKid = await t.app.services.signingKeys.rotate();
    expect(newKid).not.toBe(oldKid);

    const kids = (await publishedKeys()).map((key) => key.kid);
    expect(kids).toContain(oldKid);
    expect(kids).toContain(newKid);

    // The old JWT still verifies through the (freshly fetched) JWKS and still authenticates.
    expect((await verify(session.sessionJwt)).protectedHeader.kid).toBe(oldKid);
    // Published first, signing later: until every instance publishes the new key, the old one signs.
    const meanwhile = expectOk(await authenticateJwt(session.sessionJwt)).authenticateSession.sessionJwt;
    expect(decodeProtectedHeader(meanwhile).kid).toBe(oldKid);

    // Once activated, new JWTs, refreshed or from a new session, use the new kid and verify too.
    t.clock.advance(keyActivationDelayMs);
    const refreshed = expectOk(await authenticateJwt(session.sessionJwt)).authenticateSession.sessionJwt;
    expect(decodeProtectedHeader(refreshed).kid).toBe(newKid);
    const fresh = await openSession(t, world);
    expect(decodeProtectedHeader(fresh.sessionJwt).kid).toBe(newKid);
    expect((await verify(fresh.sessionJwt)).payload.sid).toBe(fresh.session.id);
    expect(codeOf(await authenticateJwt(fresh.sessionJwt))).toBeUndefined();
  });
});

describe("rotateSigningKey (the operator's way to rotate)", () => {
  const rotate = RotateSigningKeyDocument;

  it("needs a credential", async () => {
    expect((await gql(t.url, { kind: "none" }, rotate)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("is for ADMIN only", async () => {
    for (const caller of [world.developer.credential, world.supportManager.credential, world.viewer.credential, world.backend]) {
      expect((await gql(t.url, caller, rotate)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
  });

  it("rotates without breaking a JWT already issued, and retires the old key after the grace period", async () => {
    const session = await openSession(t, world);
    const oldKid = decodeProtectedHeader(session.sessionJwt).kid!;
    const result = await gql(t.url, world.admin.credential, rotate);
    const newKid = result.data!.rotateSigningKey;
    expect(newKid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(newKid).not.toBe(oldKid);
    expect((await publishedKeys()).map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(codeOf(await authenticateJwt(session.sessionJwt))).toBeUndefined();

    // Past its retirement (when the new key takes over) and the grace period after it (longer than
    // any session lives), the old key is no longer published.
    t.clock.advance(keyActivationDelayMs + retiredKeyGraceMs + 1000);
    expect((await publishedKeys()).map((key) => key.kid)).not.toContain(oldKid);
    expect(codeOf(await authenticateJwt(session.sessionJwt))).toBe("SESSION_NOT_FOUND");
  });
});
