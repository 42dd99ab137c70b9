import { describe, expect, it } from "vitest";
import { CreateImpersonationTokenDocument, CreateProjectDocument, CreateUserDocument, SetImpersonationPolicyDocument } from "./__generated__/graphql.js";
import { gql, gqlOk } from "./harness/client.js";
import { AUTHENTICATE_SESSION, AUTHENTICATE_TOKEN, REVOKE_SESSION } from "./harness/core-operations.js";
import { issueToken } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";

const { t, world } = useTestWorld();

describe("the impersonation flow", () => {
  it("goes from a token to a session and its revocation", async () => {
    const { token, launchUrl, expiresAt } = await issueToken(t, world);
    expect(new URL(launchUrl).searchParams.get("token")).toBe(token);
    expect(new URL(launchUrl).searchParams.get("token_type")).toBe("impersonation");
    expect(new Date(expiresAt).getTime() - t.clock.now().getTime()).toBe(300_000);

    const exchanged = await gqlOk(t.url, world.backend, AUTHENTICATE_TOKEN, { token });
    const session = exchanged.authenticateImpersonationToken.session;
    expect(new Date(session.expiresAt).getTime() - new Date(session.startedAt).getTime()).toBe(60 * 60_000);

    const revoked = await gqlOk(t.url, world.backend, REVOKE_SESSION, { sessionId: session.id });
    expect(revoked.revokeSession.session.revokedAt).not.toBeNull();
    const again = await gql(t.url, world.backend, AUTHENTICATE_SESSION, { sessionToken: exchanged.authenticateImpersonationToken.sessionToken });
    expect(again.errors?.[0]?.extensions?.code).toBe("SESSION_REVOKED");
  });

  it("builds launchUrl by adding to the redirect URL's query as the project wrote it, fragment kept", async () => {
    const redirect = "https://app.example.com/auth?a=1&b=x%20y&flag&c=%7E+d#after?x";
    const project = (
      await gqlOk(t.url, world.admin.credential, CreateProjectDocument, {
        input: { name: "Query keeper", loginRedirectUrl: redirect },
      })
    ).createProject.project.id;
    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: project, input: { allowImpersonation: true } });
    const user = (await gqlOk(t.url, world.admin.credential, CreateUserDocument, { input: { projectId: project, email: "q@example.com" } })).createUser.id;
    const created = await gqlOk(t.url, world.admin.credential, CreateImpersonationTokenDocument, {
      input: { projectId: project, userId: user, reason: "launch URL check" },
    });
    const { token, launchUrl } = created.createImpersonationToken;
    expect(launchUrl).toBe(`https://app.example.com/auth?a=1&b=x%20y&flag&c=%7E+d&token_type=impersonation&token=${token}#after?x`);
  });

  it("refuses a login redirect URL with no host after '//' (the parser would invent one)", async () => {
    const result = await gql(t.url, world.admin.credential, CreateProjectDocument, {
      input: { name: "No host", loginRedirectUrl: "https:///nohost" },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
