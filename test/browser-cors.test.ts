import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticateImpersonationTokenDocument,
  CreateImpersonationTokenDocument,
  CreateProjectDocument,
  CreateUserDocument,
  SetImpersonationPolicyDocument,
} from "./__generated__/graphql.js";
import { chromiumForBrowserTests } from "./harness/chromium.js";
import { gqlOk } from "./harness/client.js";
import { chromiumPath } from "./harness/global-setup.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * SPEC §7 in a real browser: the application's login page (the project's loginRedirectUrl) exchanges
 * an impersonation token with the public token; a page of any other origin cannot reach the server.
 * Needs Chromium: without it this file is skipped and `npm test` says so, except under CI where it fails.
 */
const executablePath = chromiumPath();
const chromiumAvailable = chromiumForBrowserTests("browser CORS");

/** The login page's script, served as a file: what an application using the public token runs. */
const appScript = `
const config = JSON.parse(document.getElementById("masquerade-config").textContent);
const token = new URL(location.href).searchParams.get("token");
const query = "mutation($token: String!) { authenticateImpersonationToken(token: $token) { userId sessionToken session { id userId } } }";
window.exchange = (extraHeaders = {}) =>
  fetch(config.graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "x-public-token": config.publicToken, ...extraHeaders },
    body: JSON.stringify({ query, variables: { token } }),
  }).then(
    async (response) => ({ status: response.status, body: await response.json() }),
    (error) => ({ rejected: error.name, message: error.message }),
  );
`;

type ExchangeOutcome =
  | { status: number; body: { data?: { authenticateImpersonationToken: { userId: string; sessionToken: string; session: { id: string; userId: string } } }; errors?: unknown[] } }
  | { rejected: string; message: string };

/** A tiny application server: GET /authenticate is the login page, /app.js its script. */
async function startPageServer(config: () => { graphqlUrl: string; publicToken: string }): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://page").pathname;
    if (path === "/authenticate") {
      const json = JSON.stringify(config()).replace(/</g, "\\u003c");
      const html = `<!doctype html><html><head><meta charset="utf-8"><title>Login</title></head><body>
<script id="masquerade-config" type="application/json">${json}</script><script src="/app.js"></script></body></html>`;
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(html);
    } else if (path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(appScript);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(!chromiumAvailable)("browser CORS in headless Chromium", () => {
  const { t, world } = useTestWorld();
  let browser: Browser;
  let appPages: { server: Server; origin: string };
  let otherPages: { server: Server; origin: string };
  let project: { id: string; publicToken: string; userId: string };

  beforeAll(async () => {
    const pageConfig = () => ({ graphqlUrl: t.url, publicToken: project.publicToken });
    appPages = await startPageServer(pageConfig);
    otherPages = await startPageServer(pageConfig);

    const created = await gqlOk(t.url, world.admin.credential, CreateProjectDocument, { input: { name: "Browser app", loginRedirectUrl: `${appPages.origin}/authenticate` } });
    const id = created.createProject.project.id;
    const user = await gqlOk(t.url, world.admin.credential, CreateUserDocument, { input: { projectId: id, email: "pat@browser.example" } });
    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: id, input: { allowImpersonation: true, allowFrontendAuthentication: true } });
    project = { id, publicToken: created.createProject.publicToken, userId: user.createUser.id };

    browser = await chromium.launch({
      executablePath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    for (const pages of [appPages, otherPages]) if (pages) await new Promise((resolve) => pages.server.close(resolve));
  });

  async function issue(): Promise<{ token: string; launchUrl: string }> {
    const data = await gqlOk(t.url, world.supportManager.credential, CreateImpersonationTokenDocument, { input: { projectId: project.id, userId: project.userId, reason: "Ticket 12: browser login" } });
    return data.createImpersonationToken;
  }

  /** Opens `url` in a fresh browser context and runs the page's exchange. */
  async function exchangeFrom(url: string, extraHeaders: Record<string, string> = {}): Promise<ExchangeOutcome> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url);
      return await page.evaluate((headers) => (globalThis as unknown as { exchange(h: Record<string, string>): Promise<ExchangeOutcome> }).exchange(headers), extraHeaders);
    } finally {
      await context.close();
    }
  }

  it("lets the login page at the redirect URL's origin exchange a token with the public token", async () => {
    const { launchUrl } = await issue();
    expect(launchUrl.startsWith(`${appPages.origin}/authenticate?`)).toBe(true);
    const outcome = await exchangeFrom(launchUrl);
    expect(outcome).toMatchObject({ status: 200, body: { data: { authenticateImpersonationToken: { userId: project.userId, session: { userId: project.userId } } } } });
    if ("body" in outcome) expect(outcome.body.data?.authenticateImpersonationToken.sessionToken).toMatch(/^mq_sess_/);
  });

  it("keeps a page of another origin out: its fetch rejects with a TypeError and the token stays unused", async () => {
    const { token, launchUrl } = await issue();
    const elsewhere = launchUrl.replace(appPages.origin, otherPages.origin);
    const outcome = await exchangeFrom(elsewhere);
    expect(outcome).toMatchObject({ rejected: "TypeError" });
    // The preflight stopped the browser before it sent the exchange: the token was never spent.
    const server = await gqlOk(t.url, { kind: "frontend", publicToken: project.publicToken }, AuthenticateImpersonationTokenDocument, { token });
    expect(server.authenticateImpersonationToken.userId).toBe(project.userId);
  });

  it("keeps a member key out even from the allowed origin: the browser may not send Authorization", async () => {
    const { launchUrl } = await issue();
    const outcome = await exchangeFrom(launchUrl, { authorization: `Bearer ${world.admin.apiKey}` });
    expect(outcome).toMatchObject({ rejected: "TypeError" });
  });
});
