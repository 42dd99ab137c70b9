import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gql, gqlOk } from "./harness/client.js";
import { createWorld, issueToken, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";

let t: TestApp;
let world: World;

beforeAll(async () => {
  t = await startTestApp();
  world = await createWorld(t);
});
afterAll(async () => t?.close());

describe("the impersonation flow", () => {
  it("goes from a token to a session and its revocation", async () => {
    const { token, launchUrl, expiresAt } = await issueToken(t, world);
    expect(new URL(launchUrl).searchParams.get("token")).toBe(token);
    expect(new URL(launchUrl).searchParams.get("token_type")).toBe("impersonation");
    expect(new Date(expiresAt).getTime() - t.clock.now().getTime()).toBe(300_000);

    const exchanged = await gqlOk(t.url, world.backend, `mutation($token: String!) {
      authenticateImpersonationToken(token: $token) { userId sessionToken session { id startedAt expiresAt } }
    }`, { token });
    const session = exchanged.authenticateImpersonationToken.session;
    expect(new Date(session.expiresAt).getTime() - new Date(session.startedAt).getTime()).toBe(60 * 60_000);

    const revoked = await gqlOk(t.url, world.backend, `mutation($id: ID) { revokeSession(sessionId: $id) { session { revokedAt } } }`, { id: session.id });
    expect(revoked.revokeSession.session.revokedAt).not.toBeNull();
    const again = await gql(t.url, world.backend, `mutation($st: String) { authenticateSession(sessionToken: $st) { session { id } } }`, {
      st: exchanged.authenticateImpersonationToken.sessionToken,
    });
    expect(again.errors?.[0]?.extensions?.code).toBe("SESSION_REVOKED");
  });

  it("builds launchUrl by adding to the redirect URL's query as the project wrote it, fragment kept", async () => {
    const redirect = "https://app.example.com/auth?a=1&b=x%20y&flag&c=%7E+d#after?x";
    const project = (
      await gqlOk(t.url, world.admin.credential, `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }`, {
        input: { name: "Query keeper", loginRedirectUrl: redirect },
      })
    ).createProject.project.id as string;
    await gqlOk(t.url, world.admin.credential, `mutation($p: ID!) { setImpersonationPolicy(projectId: $p, input: { allowImpersonation: true }) { allowImpersonation } }`, { p: project });
    const user = (await gqlOk(t.url, world.admin.credential, `mutation($p: ID!) { createUser(input: { projectId: $p, email: "q@example.com" }) { id } }`, { p: project })).createUser.id;
    const created = await gqlOk(
      t.url,
      world.admin.credential,
      `mutation($input: CreateImpersonationTokenInput!) { createImpersonationToken(input: $input) { token launchUrl } }`,
      { input: { projectId: project, userId: user, reason: "launch URL check" } },
    );
    const { token, launchUrl } = created.createImpersonationToken as { token: string; launchUrl: string };
    expect(launchUrl).toBe(`https://app.example.com/auth?a=1&b=x%20y&flag&c=%7E+d&token_type=impersonation&token=${token}#after?x`);
  });

  it("refuses a login redirect URL with no host after '//' (the parser would invent one)", async () => {
    const result = await gql(t.url, world.admin.credential, `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }`, {
      input: { name: "No host", loginRedirectUrl: "https:///nohost" },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
