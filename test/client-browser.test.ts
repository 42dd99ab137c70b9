import { CreateImpersonationTokenDocument, CreateProjectDocument, CreateUserDocument, SetImpersonationPolicyDocument, UpdateProjectDocument } from "@masquerade/client/operations";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumForBrowserTests } from "./harness/chromium.js";
import { gql, gqlOk } from "./harness/client.js";
import { runDemoAdmin, startDemoApp, type DemoApp } from "./harness/demo-app.js";
import { chromiumPath } from "./harness/global-setup.js";
import { tempDir } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * SPEC §11 in a real browser: examples/demo-app (its own process and origin) with the browser SDK
 * served as compiled ES modules, under a strict CSP. An admin creates a token, Chromium opens the
 * launch URL, the login page exchanges it, the banner shows who is viewing as whom, the app's
 * backend checks the session JWT locally, a write is refused for a read-only impersonation, End
 * revokes the session. Needs Chromium: skipped without it, except under CI where it fails.
 */
const executablePath = chromiumPath();
const chromiumAvailable = chromiumForBrowserTests("the client SDK in a browser");

interface Visit {
  page: Page;
  /** Referer headers of every request the page made. */
  referers: string[];
  /** Console errors (a CSP violation is one). */
  consoleErrors: string[];
  close(): Promise<void>;
}

describe.skipIf(!chromiumAvailable)("the client SDK and the demo app in headless Chromium", () => {
  const { t, world } = useTestWorld();
  let browser: Browser;
  let demo: DemoApp;
  let project: { id: string; userId: string; userEmail: string };

  beforeAll(async () => {
    const created = (await gqlOk(t.url, world.admin.credential, CreateProjectDocument, { input: { name: "Demo app", loginRedirectUrl: "http://127.0.0.1:1/authenticate" } })).createProject;
    const id = created.project.id;
    demo = await startDemoApp({ masqueradeUrl: t.url, projectId: id, projectSecret: created.secret, publicToken: created.publicToken });
    // The demo app's origin is known once it listens: it becomes the project's login redirect URL (and so a CORS origin).
    await gqlOk(t.url, world.admin.credential, UpdateProjectDocument, { id, input: { loginRedirectUrl: `${demo.origin}/authenticate` } });
    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: id, input: { allowImpersonation: true, allowFrontendAuthentication: true } });
    const userEmail = "pat@demo.example";
    const user = await gqlOk(t.url, world.admin.credential, CreateUserDocument, { input: { projectId: id, email: userEmail, name: "Pat" } });
    project = { id, userId: user.createUser.id, userEmail };
    browser = await chromium.launch({
      executablePath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  async function issue(mode?: "READ_ONLY" | "READ_WRITE"): Promise<{ token: string; launchUrl: string }> {
    // The banner counts down against the browser's own time: the session starts now, not when the
    // server's fake clock was made (on a busy machine, long enough before for the minutes to differ).
    t.clock.set(new Date());
    const input = { projectId: project.id, userId: project.userId, reason: "Ticket 14: the demo app", ...(mode ? { mode } : {}) };
    const result = await gql(t.url, world.supportManager.credential, CreateImpersonationTokenDocument, { input } as never);
    if (!result.data) throw new Error(`createImpersonationToken failed: ${JSON.stringify(result.errors)}`);
    return result.data.createImpersonationToken;
  }

  async function visit(url: string): Promise<Visit> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const referers: string[] = [];
    const consoleErrors: string[] = [];
    page.on("request", (request) => {
      const referer = request.headers()["referer"];
      if (referer) referers.push(referer);
    });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(url);
    return { page, referers, consoleErrors, close: () => context.close() };
  }

  const banner = (page: Page) => page.locator("[data-masquerade-banner]");
  /** The banner's text (it renders in an open shadow root, which Playwright's locators pierce). */
  const bannerText = async (page: Page) => (await banner(page).locator(".bar").textContent()) ?? "";

  async function click(page: Page, name: string): Promise<{ status: number; code?: string; session?: { sessionId: string; mode: string }; saved?: boolean; ended?: boolean }> {
    await page.locator("#result").evaluate((output) => (output.textContent = ""));
    await page.getByRole("button", { name }).click();
    await expect.poll(() => page.locator("#result").textContent()).not.toBe("");
    return JSON.parse((await page.locator("#result").textContent())!);
  }

  it("signs in from the launch URL, shows the banner, lets the backend check the session, and End revokes it", async () => {
    const { token, launchUrl } = await issue();
    expect(launchUrl.startsWith(`${demo.origin}/authenticate?`)).toBe(true);
    const visitor = await visit(launchUrl);
    const { page } = visitor;
    try {
      await page.waitForURL(`${demo.origin}/`);
      // The token is gone from the address, and no request carried it in a Referer.
      expect(page.url()).not.toContain(token);
      expect(visitor.referers.filter((referer) => referer.includes(token))).toEqual([]);

      await expect.poll(() => banner(page).isVisible()).toBe(true);
      const text = await bannerText(page);
      expect(text).toContain(`${world.supportManager.email} is viewing as ${project.userEmail}`);
      expect(text).toContain("Read and write");
      expect(text).toMatch(/(59|60) min \d\d s left/);
      expect(await banner(page).getAttribute("role")).toBe("region");
      // Styled by its adopted style sheet, which the page's strict CSP (style-src 'self') allows.
      expect(await page.locator("[data-masquerade-banner] .bar").evaluate((bar) => (globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } }).getComputedStyle(bar).backgroundColor)).toBe("rgb(91, 26, 0)");
      expect(visitor.consoleErrors).toEqual([]);

      const local = await click(page, "Check with the backend (local JWT check)");
      expect(local.status).toBe(200);
      expect(local.session).toMatchObject({ userId: project.userId, projectId: project.id, impersonator: { id: world.supportManager.id, email: world.supportManager.email }, mode: "READ_WRITE" });
      expect(await click(page, "Check with the backend (asks Masquerade)")).toMatchObject({ status: 200, session: { sessionId: local.session!.sessionId } });
      expect(await click(page, "Save a note (a write)")).toMatchObject({ status: 200, saved: true });

      const stored = () => page.evaluate<string | null>('sessionStorage.getItem("masquerade.session")');
      const jwt = JSON.parse((await stored())!).sessionJwt as string;
      await page.getByRole("button", { name: "End impersonation" }).click();
      await expect.poll(() => banner(page).isVisible()).toBe(false);
      expect(await stored()).toBeNull();
      // The next check is refused: the tab has no session any more, and Masquerade refuses the old JWT.
      expect(await click(page, "Check with the backend (local JWT check)")).toMatchObject({ status: 401, code: "SESSION_NOT_FOUND" });
      const serverCheck = await fetch(`${demo.origin}/api/session`, { headers: { authorization: `Bearer ${jwt}` } });
      expect(serverCheck.status).toBe(401);
      expect(await serverCheck.json()).toMatchObject({ code: "SESSION_REVOKED" });
    } finally {
      await visitor.close();
    }

    // The launch URL is single use: opened again, the login page says so.
    const again = await visit(launchUrl);
    try {
      await expect.poll(() => again.page.locator("#error").getAttribute("data-code")).toBe("IMPERSONATION_TOKEN_ALREADY_USED");
      expect(await again.page.locator("#error").isVisible()).toBe(true);
      expect(again.page.url()).not.toContain(token);
    } finally {
      await again.close();
    }
  });

  it("refuses the write route for a read-only impersonation, and says read-only in the banner", async () => {
    const { launchUrl } = await issue("READ_ONLY");
    const visitor = await visit(launchUrl);
    const { page } = visitor;
    try {
      await page.waitForURL(`${demo.origin}/`);
      await expect.poll(() => banner(page).isVisible()).toBe(true);
      expect(await bannerText(page)).toContain("Read-only");
      expect(await click(page, "Check with the backend (local JWT check)")).toMatchObject({ status: 200, session: { mode: "READ_ONLY" } });
      expect(await click(page, "Save a note (a write)")).toMatchObject({ status: 403, code: "IMPERSONATION_READ_ONLY" });
    } finally {
      await visitor.close();
    }
  });

  it("follows README's walkthrough: bootstrap.json, admin.mjs setup, the demo app with --credentials, admin.mjs launch", async () => {
    // What `npm run bootstrap -- … --out bootstrap.json` writes, for the world's bootstrapped project.
    const files = tempDir("masquerade-walkthrough-");
    const credentialsFile = join(files.path, "bootstrap.json");
    writeFileSync(
      credentialsFile,
      JSON.stringify({ adminMemberId: world.admin.id, adminApiKey: world.admin.apiKey, projectId: world.projectId, projectSecret: world.projectSecret, publicToken: world.publicToken }),
    );
    const app = await startDemoApp({ masqueradeUrl: t.url, credentialsFile });
    try {
      await gqlOk(t.url, world.admin.credential, UpdateProjectDocument, { id: world.projectId, input: { loginRedirectUrl: `${app.origin}/authenticate` } });
      const setup = await runDemoAdmin(["setup", "--credentials", credentialsFile], t.url);
      expect(setup).toMatchObject({ impersonation: "on", frontendAuthentication: "on", user: { email: "jane@example.com" } });
      expect(await runDemoAdmin(["setup", "--credentials", credentialsFile], t.url)).toEqual(setup); // again: nothing new
      const { launchUrl } = (await runDemoAdmin(["launch", "--credentials", credentialsFile, "--mode", "READ_ONLY"], t.url)) as { launchUrl: string };
      expect(launchUrl.startsWith(`${app.origin}/authenticate?token_type=impersonation&token=`)).toBe(true);

      const visitor = await visit(launchUrl);
      try {
        await visitor.page.waitForURL(`${app.origin}/`);
        await expect.poll(() => banner(visitor.page).isVisible()).toBe(true);
        expect(await bannerText(visitor.page)).toContain(`${world.admin.email} is viewing as jane@example.com`);
        expect(await bannerText(visitor.page)).toContain("Read-only");
        expect(await click(visitor.page, "Check with the backend (local JWT check)")).toMatchObject({ status: 200, session: { impersonator: { email: world.admin.email } } });
      } finally {
        await visitor.close();
      }
    } finally {
      await app.stop();
      files.remove();
    }
  });

  it("says so on the login page when the address holds no token", async () => {
    const visitor = await visit(`${demo.origin}/authenticate`);
    try {
      await expect.poll(() => visitor.page.locator("#status").textContent()).toContain("open it through a launch link");
      expect(await banner(visitor.page).count()).toBe(0);
    } finally {
      await visitor.close();
    }
  });
});
