import { MasqueradeClient, MasqueradeError } from "@masquerade/client";
import { createBrowserClient, type KeyValueStorage } from "@masquerade/client/browser";
import { CreateImpersonationTokenDocument, SetImpersonationPolicyDocument } from "@masquerade/client/operations";
import { describe, expect, it } from "vitest";
import { gqlOk } from "./harness/client.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * The browser client's calls and the codes it surfaces, run in Node against the real server (the
 * page itself, history and the banner are in client-browser.test.ts, in Chromium). Storage is a
 * Map standing in for sessionStorage, except where the client's own fallback (no sessionStorage
 * in Node) is what is tested.
 */
const { t, world } = useTestWorld({ world: { allowFrontendAuthentication: true } });

function memoryStorage(): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (key) => map.get(key) ?? null, setItem: (key, value) => void map.set(key, value), removeItem: (key) => void map.delete(key) };
}

function browserClient(storage = memoryStorage(), publicToken = world.publicToken) {
  return { storage, client: createBrowserClient({ url: t.url, publicToken, storage, clock: t.clock }) };
}

async function launchUrl(projectId = world.projectId, userId = world.userId): Promise<string> {
  const data = await gqlOk(t.url, world.supportManager.credential, CreateImpersonationTokenDocument, { input: { projectId, userId, reason: "frontend SDK" } });
  return data.createImpersonationToken.launchUrl;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => null, (failure: unknown) => failure);
  expect(error).toBeInstanceOf(MasqueradeError);
  return (error as MasqueradeError).code;
}

describe("createBrowserClient", () => {
  it("exchanges the token of a launch URL, keeps the session, refreshes its JWT and ends it with its own token", async () => {
    const { client, storage } = browserClient();
    const changes: Array<string | null> = [];
    client.session.onChange((session) => changes.push(session?.sessionId ?? null));
    expect(await client.authenticateByUrl("https://app.example.com/authenticate")).toBeNull();
    expect(client.session.current()).toBeNull();

    const session = (await client.authenticateByUrl(await launchUrl()))!;
    expect(session).toMatchObject({ userId: world.userId, projectId: world.projectId, impersonator: { id: world.supportManager.id, email: world.supportManager.email }, user: { email: "jane@customer.com" } });
    expect(session.expiresAt.getTime() - t.clock.now().getTime()).toBe(60 * 60_000);
    expect(JSON.parse(storage.map.get("masquerade.session")!).sessionToken).toMatch(/^mq_sess_/);
    expect(client.session.current()).toEqual(session);

    // jwt() hands out the current JWT while it has 30 s left, and refreshes it after.
    expect(await client.session.jwt()).toBe(session.sessionJwt);
    t.clock.advanceSeconds(280);
    const refreshedJwt = await client.session.jwt();
    expect(refreshedJwt).not.toBe(session.sessionJwt);
    const backend = new MasqueradeClient({ url: t.url, projectId: world.projectId, projectSecret: world.projectSecret, clock: t.clock });
    expect((await backend.sessions.authenticateJwt(refreshedJwt!)).sessionId).toBe(session.sessionId);

    await client.session.end();
    expect(client.session.current()).toBeNull();
    expect(storage.map.size).toBe(0);
    expect(await codeOf(backend.sessions.authenticate({ sessionJwt: refreshedJwt! }))).toBe("SESSION_REVOKED");
    expect(changes).toEqual([session.sessionId, session.sessionId, null]);
    await client.session.end(); // no session: nothing to do
  });

  it("forgets a session revoked elsewhere at its next refresh, with SESSION_REVOKED", async () => {
    const { client } = browserClient();
    const session = (await client.authenticateByUrl(await launchUrl()))!;
    await gqlOk(t.url, world.backend, `mutation($id: ID) { revokeSession(sessionId: $id) { requestId } }`, { id: session.sessionId });
    expect(client.session.current()?.sessionId).toBe(session.sessionId);
    expect(await codeOf(client.session.refresh())).toBe("SESSION_REVOKED");
    expect(client.session.current()).toBeNull();
    expect(await codeOf(client.session.refresh())).toBe("SESSION_NOT_FOUND");
  });

  it("surfaces the exchange's codes: FRONTEND_AUTHENTICATION_DISABLED, IMPERSONATION_TOKEN_ALREADY_USED, UNAUTHENTICATED", async () => {
    const url = await launchUrl();
    await client().authenticateByUrl(url);
    expect(await codeOf(client().authenticateByUrl(url))).toBe("IMPERSONATION_TOKEN_ALREADY_USED");
    expect(await codeOf(browserClient(memoryStorage(), "mq_pub_wrong").client.authenticateByUrl(await launchUrl()))).toBe("UNAUTHENTICATED");

    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { allowFrontendAuthentication: false } });
    try {
      const { client: refused, storage } = browserClient();
      expect(await codeOf(refused.authenticateByUrl(await launchUrl()))).toBe("FRONTEND_AUTHENTICATION_DISABLED");
      expect(storage.map.size).toBe(0);
    } finally {
      await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { allowFrontendAuthentication: true } });
    }
  });

  it("ends the tab's earlier impersonation when a second launch replaces it, and shares one refresh among concurrent jwt() calls", async () => {
    const { client } = browserClient();
    const first = (await client.authenticateByUrl(await launchUrl()))!;
    const second = (await client.authenticateByUrl(await launchUrl()))!;
    expect(second.sessionId).not.toBe(first.sessionId);
    const backend = new MasqueradeClient({ url: t.url, projectId: world.projectId, projectSecret: world.projectSecret, clock: t.clock });
    expect(await codeOf(backend.sessions.authenticate({ sessionJwt: first.sessionJwt }))).toBe("SESSION_REVOKED");
    expect((await backend.sessions.authenticate({ sessionJwt: second.sessionJwt })).session.sessionId).toBe(second.sessionId);

    const refreshes: string[] = [];
    const counting = createBrowserClient({
      url: t.url,
      publicToken: world.publicToken,
      storage: memoryStorage(),
      clock: t.clock,
      fetch: (input, init) => {
        if (typeof init?.body === "string" && init.body.includes("authenticateSession")) refreshes.push("refresh");
        return fetch(input, init);
      },
    });
    await counting.authenticateByUrl(await launchUrl());
    t.clock.advanceSeconds(290);
    const jwts = await Promise.all(Array.from({ length: 10 }, () => counting.session.jwt()));
    expect(new Set(jwts).size).toBe(1);
    expect(refreshes).toEqual(["refresh"]);
  });
});

describe("createBrowserClient without sessionStorage (Node)", () => {
  it("keeps the session in memory: authenticateByUrl, current, jwt, refresh and end work", async () => {
    expect(typeof (globalThis as { sessionStorage?: unknown }).sessionStorage).toBe("undefined");
    const inNode = createBrowserClient({ url: t.url, publicToken: world.publicToken, clock: t.clock });
    const session = (await inNode.authenticateByUrl(await launchUrl()))!;
    expect(session).toMatchObject({ userId: world.userId, projectId: world.projectId, user: { email: "jane@customer.com" } });
    expect(inNode.session.current()).toEqual(session);
    expect(await inNode.session.jwt()).toBe(session.sessionJwt);
    t.clock.advanceSeconds(2);
    expect((await inNode.session.refresh()).sessionJwt).not.toBe(session.sessionJwt);
    await inNode.session.end();
    expect(inNode.session.current()).toBeNull();
    const backend = new MasqueradeClient({ url: t.url, projectId: world.projectId, projectSecret: world.projectSecret, clock: t.clock });
    expect(await codeOf(backend.sessions.authenticate({ sessionJwt: session.sessionJwt }))).toBe("SESSION_REVOKED");
  });

  it("does not use up the token when the session could not be kept: SESSION_STORAGE_UNAVAILABLE, and the token still works", async () => {
    const requests: string[] = [];
    const refusing: KeyValueStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      },
      removeItem: () => undefined,
    };
    const full = createBrowserClient({
      url: t.url,
      publicToken: world.publicToken,
      storage: refusing,
      clock: t.clock,
      fetch: (input, init) => {
        requests.push(String(init?.body ?? ""));
        return fetch(input, init);
      },
    });
    const url = await launchUrl();
    const error = await full.authenticateByUrl(url).then(() => null, (failure: unknown) => failure);
    expect(error).toBeInstanceOf(MasqueradeError);
    expect(error).toMatchObject({ code: "SESSION_STORAGE_UNAVAILABLE" });
    expect(requests).toEqual([]);
    // The token was not spent: a client that can keep the session exchanges it.
    expect((await client().authenticateByUrl(url))?.userId).toBe(world.userId);
  });

  it("ends the session it could not keep when the storage refuses it after the exchange", async () => {
    // Takes the small probe write, refuses the session itself (a storage almost full).
    const almostFull: KeyValueStorage = {
      getItem: () => null,
      setItem: (_key, value) => {
        if (value.length > 10) throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      },
      removeItem: () => undefined,
    };
    const exchangedJwts: string[] = [];
    const full = createBrowserClient({
      url: t.url,
      publicToken: world.publicToken,
      storage: almostFull,
      clock: t.clock,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        const body = (await response.clone().json()) as { data?: { authenticateImpersonationToken?: { sessionJwt: string } } };
        const jwt = body.data?.authenticateImpersonationToken?.sessionJwt;
        if (jwt) exchangedJwts.push(jwt);
        return response;
      },
    });
    expect(await codeOf(full.authenticateByUrl(await launchUrl()))).toBe("SESSION_STORAGE_UNAVAILABLE");
    expect(exchangedJwts).toHaveLength(1);
    const backend = new MasqueradeClient({ url: t.url, projectId: world.projectId, projectSecret: world.projectSecret, clock: t.clock });
    expect(await codeOf(backend.sessions.authenticate({ sessionJwt: exchangedJwts[0]! }))).toBe("SESSION_REVOKED");
    expect(full.session.current()).toBeNull();
  });
});

function client() {
  return browserClient().client;
}
