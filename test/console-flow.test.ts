import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsolePolicyDocument } from "../console/src/generated/graphql.js";
import {
  CreateTeamMemberDocument,
  CreateUserDocument,
  RotateTeamMemberApiKeyDocument,
  SessionsDocument,
  SetImpersonationPolicyDocument,
  UpdateMemberDocument,
  UpdateProjectDocument,
} from "./__generated__/graphql.js";
import { chromiumForBrowserTests } from "./harness/chromium.js";
import { asMember, gqlOk } from "./harness/client.js";
import {
  browserTestTimeout,
  buildConsole,
  launchChromium,
  nextLiveSubscriber,
  openConsoleUser,
  screenshot,
  screenshotDirectory,
  signIn,
  startApplicationPages,
  storageKeys,
  type ApplicationPages,
  type ConsoleUser,
} from "./harness/console-browser.js";
import { startSession, type Member } from "./harness/fixtures.js";
import { tempDir } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * The staff console end to end (SPEC §11, issue 15) in headless Chromium against the real server:
 * sign in, impersonate from the Users page into the application's login page, watch it arrive in
 * Activity without a reload, revoke it from Sessions, the kill switch from Team, and a key that
 * stops working. test/console-roles.test.ts covers what each role is offered.
 */
const chromiumAvailable = chromiumForBrowserTests("staff console");

describe.skipIf(!chromiumAvailable)("staff console in headless Chromium", { timeout: browserTestTimeout }, () => {
  const build = tempDir("masquerade-console-build-");
  beforeAll(() => buildConsole(build.path));
  const { t, world } = useTestWorld({ app: { consoleDirectory: build.path } });
  const screens = screenshotDirectory();
  let browser: Browser;
  let application: ApplicationPages;
  const people: ConsoleUser[] = [];

  async function person(): Promise<ConsoleUser> {
    const opened = await openConsoleUser(browser);
    people.push(opened);
    return opened;
  }

  async function newMember(role: "ADMIN" | "DEVELOPER" | "SUPPORT_MANAGER" | "VIEWER", email: string): Promise<Member> {
    const created = await gqlOk(t.url, world.admin.credential, CreateTeamMemberDocument, { input: { email, role, name: email.split("@")[0] } });
    const { member, apiKey } = created.createTeamMember;
    return { id: member.id, email: member.email, apiKey, credential: asMember(apiKey) };
  }

  beforeAll(async () => {
    application = await startApplicationPages(() => ({ graphqlUrl: t.url, publicToken: world.publicToken }));
    await gqlOk(t.url, world.admin.credential, UpdateProjectDocument, { id: world.projectId, input: { loginRedirectUrl: application.loginUrl } });
    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { allowImpersonation: true, allowFrontendAuthentication: true } });
    for (const [email, name] of [["maria@customer.com", "Maria Lopez"], ["kenji@customer.com", "Kenji Sato"]]) {
      await gqlOk(t.url, world.admin.credential, CreateUserDocument, { input: { projectId: world.projectId, email, name } });
    }
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await application?.close();
    build.remove();
  });

  it("keeps a wrong key on the sign-in page with a clear message", async () => {
    const { page } = await person();
    const response = await page.goto(`${t.baseUrl}/console`);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await screenshot(page, screens, "sign-in");
    await page.getByLabel("Member API key").fill("mq_key_not-a-real-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "That API key was not accepted" }).waitFor();
    expect(await storageKeys(page).then((keys) => keys.session.length)).toBe(0);
  });

  it("impersonates from the Users page into the application, and Activity shows it live without a reload", async () => {
    // The security person watches Activity.
    const watcher = await person();
    const watching = nextLiveSubscriber(t);
    await signIn(watcher.page, t.baseUrl, world.admin.apiKey, "/console/activity");
    await watcher.page.locator(".live-live").waitFor();
    await watching();
    await watcher.page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));

    const support = await person();
    await signIn(support.page, t.baseUrl, world.supportManager.apiKey);
    await support.page.getByLabel("Search users").fill("maria");
    await support.page.getByRole("button", { name: "Search" }).click();
    await support.page.getByRole("link", { name: "maria@customer.com" }).click();
    await support.page.getByRole("heading", { name: "Impersonate user" }).waitFor();
    const launch = support.page.getByRole("button", { name: "Launch in new tab" });
    expect(await launch.isDisabled(), "no launch without a reason").toBe(true);
    const reason = "Ticket 4711: Maria cannot see her invoices";
    await support.page.getByLabel("Reason (required, kept in the audit log)").fill(reason);
    await screenshot(support.page, screens, "user-impersonate");

    const [appPage] = await Promise.all([support.context.waitForEvent("page"), launch.click()]);
    await appPage.locator("#status", { hasText: "Viewing as maria@customer.com" }).waitFor();
    expect(await appPage.locator("#status").textContent()).toContain(`impersonated by ${world.supportManager.email}`);
    expect(new URL(appPage.url()).origin).toBe(application.origin);
    expect(appPage.url()).not.toContain("token=");
    // The launched tab has no handle on the console.
    expect(await appPage.evaluate(() => (globalThis as unknown as { opener: unknown }).opener)).toBeNull();
    await support.page.getByRole("status").filter({ hasText: "Launched in a new tab" }).waitFor();
    // The token never reached the console's screen.
    expect(await support.page.content()).not.toContain("mq_imp_");

    // The exchange arrives in Activity by itself: same document, no reload.
    const row = watcher.page.locator("tr", { hasText: reason }).filter({ hasText: "AuthenticateImpersonationToken" });
    await row.waitFor();
    expect(await row.textContent()).toContain(world.supportManager.email);
    expect(await watcher.page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    await screenshot(watcher.page, screens, "activity");

    // Sessions shows who is impersonating whom; Revoke ends it, and the application is refused.
    await support.page.getByRole("link", { name: "Sessions", exact: true }).click();
    const sessionId = await appPage.locator("#status").getAttribute("data-session-id");
    const sessionRow = support.page.locator(`tr[data-session-id="${sessionId}"]`, { hasText: "maria@customer.com" });
    await sessionRow.waitFor();
    expect(await sessionRow.textContent()).toMatch(/maria@customer\.com.*\d+ min \d{2} s left/);
    await screenshot(support.page, screens, "sessions");
    expect(await appPage.evaluate(() => (globalThis as unknown as { checkSession(): Promise<string> }).checkSession())).toBe("ACTIVE");
    await sessionRow.getByRole("button", { name: /^Revoke/ }).click();
    await sessionRow.waitFor({ state: "detached" });
    expect(await appPage.evaluate(() => (globalThis as unknown as { checkSession(): Promise<string> }).checkSession())).toBe("SESSION_REVOKED");
    await watcher.page.locator("tr", { hasText: "RevokeSession" }).first().waitFor();

    for (const someone of [watcher, support]) {
      const keyed = someone.requestedUrls.filter((url) => url.includes("mq_key_") || url.includes(world.admin.apiKey) || url.includes(world.supportManager.apiKey));
      expect(keyed, "no key in any URL").toEqual([]);
      const withToken = someone.requestedUrls.filter((url) => url.includes("mq_imp_"));
      // The launch URL itself, opened once in the application's tab, is the only place a token goes.
      expect(withToken.every((url) => url.startsWith(application.loginUrl))).toBe(true);
      expect(withToken.length).toBeLessThanOrEqual(1);
    }
  });

  it("Activity filters, pages and verifies the chain", async () => {
    // Two pages of events (25 a page): each session is a token creation and an exchange.
    for (let i = 0; i < 13; i++) await startSession(t, world);
    const { page } = await person();
    await signIn(page, t.baseUrl, world.viewer.apiKey, "/console/activity");
    await page.getByLabel("Action").selectOption("RevokeSession");
    await page.getByRole("button", { name: "Apply filters" }).click();
    // The unfiltered page stays on screen until the filtered one arrives: wait for the filtered rows.
    const filteredRows = async () => {
      const actions = await page.locator("tbody tr td:nth-child(2)").allTextContents();
      return actions.length > 0 && actions.every((text) => text.startsWith("RevokeSession"));
    };
    await expect.poll(filteredRows, { timeout: 15_000 }).toBe(true);
    // A time range before anything happened matches nothing.
    await page.getByLabel("Action").selectOption("");
    await page.getByLabel("Until").fill("2020-01-01T00:00:00");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No event matches.").waitFor();
    await page.getByRole("button", { name: "Clear" }).click();
    await page.locator("tbody tr").first().waitFor();
    await page.getByRole("button", { name: "Verify chain" }).click();
    const verdict = page.getByTestId("chain-verification");
    await verdict.waitFor();
    expect(await verdict.textContent()).toMatch(/^Audit chain intact: \d+ events verified\.$/);
    // More than one page of events by now: Older shows the next page.
    await page.getByRole("button", { name: "Older" }).click();
    await page.getByText("Page 2").waitFor();
  });

  it("Team states the kill switch before disabling a member, and disabling revokes their sessions", async () => {
    const leaving = await newMember("SUPPORT_MANAGER", "leaving@example.com");
    const session = await startSession(t, world, leaving);
    const admin = await person();
    await signIn(admin.page, t.baseUrl, world.admin.apiKey, "/console/team");
    // Demoting out of the impersonating roles is a kill switch too, and says so; Cancel changes nothing.
    const developerRow = admin.page.locator(`tr[data-member-email="${world.developer.email}"]`);
    await developerRow.getByLabel(`New role for ${world.developer.email}`).selectOption("VIEWER");
    await developerRow.getByRole("button", { name: "Change role" }).click();
    const demotion = admin.page.getByRole("alertdialog");
    expect(await demotion.textContent()).toContain(`Making ${world.developer.email} a VIEWER revokes their active impersonation sessions`);
    expect(await admin.page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent)).toBe("Cancel");
    await admin.page.keyboard.press("Enter");
    await demotion.waitFor({ state: "detached" });
    expect(await developerRow.getByRole("cell", { name: "DEVELOPER", exact: true }).count()).toBeGreaterThan(0);
    expect(await developerRow.getByLabel(`New role for ${world.developer.email}`).inputValue()).toBe("DEVELOPER");

    const row = admin.page.locator('tr[data-member-email="leaving@example.com"]');
    await row.getByRole("button", { name: "Disable" }).click();
    const dialog = admin.page.getByRole("alertdialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("Disabling leaving@example.com stops their API keys at once, revokes their active impersonation sessions");
    await screenshot(admin.page, screens, "team-disable");
    // Nothing happened yet.
    const before = await gqlOk(t.url, world.admin.credential, SessionsDocument, { projectId: world.projectId, impersonatorId: leaving.id, activeOnly: true });
    expect(before.sessions.edges.map((edge) => edge.node.id)).toEqual([session.session.id]);
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await row.getByText("Disabled").waitFor();
    const after = await gqlOk(t.url, world.admin.credential, SessionsDocument, { projectId: world.projectId, impersonatorId: leaving.id, activeOnly: true });
    expect(after.sessions.edges).toEqual([]);
  });

  it("returns to sign-in with a message when the key stops working, and sign out forgets the key", async () => {
    const rotating = await newMember("DEVELOPER", "rotating@example.com");
    const { page } = await person();
    await signIn(page, t.baseUrl, rotating.apiKey);
    expect((await storageKeys(page)).session).toContain("masquerade.console.apiKey");
    expect((await storageKeys(page)).local).toEqual([]);
    await gqlOk(t.url, world.admin.credential, RotateTeamMemberApiKeyDocument, { id: rotating.id });
    await page.getByRole("link", { name: "Sessions", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "Your API key is no longer accepted" }).waitFor();
    await page.getByLabel("Member API key").waitFor();
    expect(await storageKeys(page).then((keys) => keys.session.length)).toBe(0);

    await signIn(page, t.baseUrl, world.developer.apiKey);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Member API key").waitFor();
    expect(await storageKeys(page).then((keys) => keys.session.length)).toBe(0);
    // A reload does not sign back in.
    await page.reload();
    await page.getByLabel("Member API key").waitFor();
  });

  it("sends a member disabled while watching Activity back to sign-in, by the live feed alone", async () => {
    const watcher = await newMember("VIEWER", "watcher@example.com");
    const { page } = await person();
    const watching = nextLiveSubscriber(t);
    await signIn(page, t.baseUrl, watcher.apiKey, "/console/activity");
    await page.locator(".live-live").waitFor();
    await watching();
    await gqlOk(t.url, world.admin.credential, UpdateMemberDocument, { id: watcher.id, input: { disabled: true } });
    // The next event re-checks the subscriber, who no longer passes.
    await startSession(t, world);
    await page.getByRole("alert").filter({ hasText: "Your API key is no longer accepted" }).waitFor();
    expect((await storageKeys(page)).session).toEqual([]);
  });

  it("Policy and Webhooks pages render for an ADMIN", async () => {
    const { page } = await person();
    await signIn(page, t.baseUrl, world.admin.apiKey, "/console/policy");
    await page.getByRole("button", { name: "Save policy" }).waitFor();
    await page.getByLabel("Allow impersonation").uncheck();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "revokes every active impersonation session" }).count()).toBe(1);
    await screenshot(page, screens, "policy");
    await page.getByLabel("Allow impersonation").check();
    await page.getByLabel("Token lifetime (seconds, 30–3600)").fill("600");
    await page.getByLabel("Default mode").selectOption("READ_ONLY");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByRole("status").filter({ hasText: "Policy saved." }).waitFor();
    const saved = await gqlOk(t.url, world.admin.credential, ConsolePolicyDocument, { projectId: world.projectId });
    expect(saved.impersonationPolicy).toMatchObject({ allowImpersonation: true, tokenTtlSeconds: 600, defaultMode: "READ_ONLY" });
    // A lifetime out of range is refused by the form itself, before anything is sent.
    await page.getByLabel("Token lifetime (seconds, 30–3600)").fill("20");
    await page.getByRole("button", { name: "Save policy" }).click();
    expect(await page.getByLabel("Token lifetime (seconds, 30–3600)").evaluate((input) => (input as unknown as { validity: { valid: boolean } }).validity.valid)).toBe(false);
    await page.getByRole("link", { name: "Users", exact: true }).click();
    await page.getByRole("link", { name: "kenji@customer.com" }).waitFor();
    await screenshot(page, screens, "users");
  });

  it("raised no Content-Security-Policy violation on any page", () => {
    expect(people.length).toBeGreaterThan(3);
    expect(people.flatMap((someone) => someone.cspViolations)).toEqual([]);
  });

  it("enforces its CSP: an inline script or style attribute put on the page does not run, and is reported", async () => {
    const { page, cspViolations } = await openConsoleUser(browser);
    try {
      await page.goto(`${t.baseUrl}/console`);
      await page.getByLabel("Member API key").waitFor();
      const ran = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { createElement(tag: string): { textContent: string }; body: { append(node: unknown): void; insertAdjacentHTML(where: string, html: string): void } } }).document;
        const script = doc.createElement("script");
        script.textContent = "globalThis.inlineRan = true";
        doc.body.append(script);
        doc.body.insertAdjacentHTML("beforeend", '<p style="color: red">styled</p>');
        return (globalThis as unknown as { inlineRan?: boolean }).inlineRan === true;
      });
      expect(ran).toBe(false);
      // Each violation is reported on its own, in no set order.
      await expect.poll(() => cspViolations.join("\n")).toMatch(/script-src/);
      await expect.poll(() => cspViolations.join("\n")).toMatch(/style-src/);
    } finally {
      await page.context().close();
    }
  });
});
