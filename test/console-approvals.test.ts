import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleSessionsDocument, ConsoleSetUserProtectedDocument } from "../console/src/generated/graphql.js";
import {
  CreateTeamMemberDocument,
  CreateUserDocument,
  SetImpersonationPolicyDocument,
  UpdateProjectDocument,
} from "./__generated__/graphql.js";
import { chromiumForBrowserTests } from "./harness/chromium.js";
import { gqlOk } from "./harness/client.js";
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
  type ApplicationPages,
  type ConsoleUser,
} from "./harness/console-browser.js";
import { tempDir } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * Four-eyes approval in the console (SPEC §9, §11): a support person requests to impersonate a
 * protected user, a second ADMIN approves it in another browser, the request's page updates by
 * itself and launches; a denial comes back with its reason; nobody approves their own request.
 */
const chromiumAvailable = chromiumForBrowserTests("staff console approvals");

describe.skipIf(!chromiumAvailable)("staff console approvals in headless Chromium", { timeout: browserTestTimeout }, () => {
  const build = tempDir("masquerade-console-build-");
  beforeAll(() => buildConsole(build.path));
  const { t, world } = useTestWorld({ app: { consoleDirectory: build.path } });
  const screens = screenshotDirectory();
  let browser: Browser;
  let application: ApplicationPages;
  let vipId: string;
  let secondAdmin: { id: string; apiKey: string };
  const people: ConsoleUser[] = [];

  async function person(apiKey: string, path: string): Promise<ConsoleUser> {
    const someone = await openConsoleUser(browser);
    people.push(someone);
    await signIn(someone.page, t.baseUrl, apiKey, path);
    return someone;
  }

  /** A requester on the protected user's page, whose live feed the server already serves: the decision reaches it. */
  async function requester(apiKey: string): Promise<ConsoleUser> {
    const listening = nextLiveSubscriber(t);
    const someone = await person(apiKey, `/console/users/${vipId}`);
    await listening();
    return someone;
  }

  beforeAll(async () => {
    application = await startApplicationPages(() => ({ graphqlUrl: t.url, publicToken: world.publicToken }));
    await gqlOk(t.url, world.admin.credential, UpdateProjectDocument, { id: world.projectId, input: { loginRedirectUrl: application.loginUrl } });
    await gqlOk(t.url, world.admin.credential, SetImpersonationPolicyDocument, { projectId: world.projectId, input: { allowImpersonation: true, allowFrontendAuthentication: true } });
    const vip = await gqlOk(t.url, world.admin.credential, CreateUserDocument, { input: { projectId: world.projectId, email: "ceo@customer.com", name: "The CEO" } });
    vipId = vip.createUser.id;
    await gqlOk(t.url, world.admin.credential, ConsoleSetUserProtectedDocument, { projectId: world.projectId, id: vipId, protected: true });
    const created = await gqlOk(t.url, world.admin.credential, CreateTeamMemberDocument, { input: { email: "second-admin@example.com", role: "ADMIN", name: "Second admin" } });
    secondAdmin = { id: created.createTeamMember.member.id, apiKey: created.createTeamMember.apiKey };
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await application?.close();
    build.remove();
  });

  it("request → approve (a second ADMIN, another browser) → launch a read-only session of a protected user", async () => {
    const support = await requester(world.supportManager.apiKey);
    const explain = support.page.getByTestId("explain");
    await explain.filter({ hasText: "Needs approval" }).waitFor();
    expect(await support.page.getByRole("button", { name: "Launch in new tab" }).count()).toBe(0);
    const reason = "Ticket 880: the CEO's export fails";
    await support.page.getByLabel("Reason (required, kept in the audit log)").fill(reason);
    await support.page.getByLabel("Read only").check();
    await support.page.getByRole("button", { name: "Request approval" }).click();
    await support.page.getByRole("status").filter({ hasText: "waiting for an ADMIN's approval" }).waitFor();
    await screenshot(support.page, screens, "user-approval-pending");

    const approver = await person(secondAdmin.apiKey, "/console/approvals");
    const row = approver.page.locator("tr", { hasText: reason });
    await row.waitFor();
    expect(await row.textContent()).toContain(world.supportManager.email);
    expect(await row.textContent()).toContain("Read only");
    await screenshot(approver.page, screens, "approvals");
    await row.getByRole("button", { name: "Approve" }).click();
    await approver.page.getByRole("status").filter({ hasText: "Approved" }).waitFor();

    // The requester's page learns of the approval by itself.
    await support.page.getByRole("status").filter({ hasText: "was approved" }).waitFor();
    const [appPage] = await Promise.all([support.context.waitForEvent("page"), support.page.getByRole("button", { name: "Launch in new tab" }).click()]);
    await appPage.locator("#status", { hasText: "Viewing as ceo@customer.com" }).waitFor();
    const sessionId = await appPage.locator("#status").getAttribute("data-session-id");
    const sessions = await gqlOk(t.url, world.admin.credential, ConsoleSessionsDocument, { projectId: world.projectId, userId: vipId, activeOnly: true });
    expect(sessions.sessions.edges.map((edge) => [edge.node.id, edge.node.mode])).toEqual([[sessionId, "READ_ONLY"]]);
    // The approval is spent: the page no longer offers it.
    await support.page.getByRole("button", { name: "Request approval" }).waitFor();
  });

  it("deny: the requester sees the denial and its reason", async () => {
    const support = await requester(world.developer.apiKey);
    await support.page.getByLabel("Reason (required, kept in the audit log)").fill("Curious about the dashboard");
    await support.page.getByRole("button", { name: "Request approval" }).click();
    await support.page.getByRole("status").filter({ hasText: "waiting for an ADMIN's approval" }).waitFor();

    const approver = await person(world.admin.apiKey, "/console/approvals");
    const row = approver.page.locator("tr", { hasText: "Curious about the dashboard" });
    await row.getByRole("button", { name: "Deny" }).click();
    const denyButton = approver.page.getByRole("button", { name: "Deny request" });
    expect(await denyButton.isDisabled(), "no denial without a reason").toBe(true);
    await approver.page.getByLabel("Reason for denying").fill("No ticket behind this");
    await denyButton.click();
    await approver.page.getByRole("status").filter({ hasText: "Denied" }).waitFor();

    await support.page.getByRole("status").filter({ hasText: "Your last request was denied: “No ticket behind this”" }).waitFor();
  });

  it("an ADMIN cannot approve their own request: the inbox offers no decision on it", async () => {
    const admin = await person(world.admin.apiKey, `/console/users/${vipId}`);
    await admin.page.getByLabel("Reason (required, kept in the audit log)").fill("Own request, checking billing");
    await admin.page.getByRole("button", { name: "Request approval" }).click();
    await admin.page.getByRole("status").filter({ hasText: "waiting for an ADMIN's approval" }).waitFor();
    await admin.page.getByRole("link", { name: "Approvals", exact: true }).click();
    const row = admin.page.locator("tr", { hasText: "Own request, checking billing" });
    await row.getByText("Your own request: another ADMIN decides it.").waitFor();
    expect(await row.getByRole("button").count()).toBe(0);
  });

  it("raised no Content-Security-Policy violation on any page", () => {
    expect(people.length).toBeGreaterThan(3);
    expect(people.flatMap((someone) => someone.cspViolations)).toEqual([]);
  });
});
