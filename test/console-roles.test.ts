import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleWebhookDeliveriesDocument } from "../console/src/generated/graphql.js";
import { chromiumForBrowserTests } from "./harness/chromium.js";
import { gqlOk } from "./harness/client.js";
import { browserTestTimeout, buildConsole, launchChromium, openConsoleUser, screenshot, screenshotDirectory, signIn, type ConsoleUser } from "./harness/console-browser.js";
import { startSession } from "./harness/fixtures.js";
import { tempDir } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";
import { eventually, startWebhookReceiver, webhookOps, type WebhookReceiver } from "./harness/webhook-receiver.js";

/**
 * What the console offers each role (SPEC §6, §11): what the matrix forbids is not offered, and a
 * VIEWER gets a read-only console. Also the Webhooks page: a failed delivery, its attempt, and Retry.
 */
const chromiumAvailable = chromiumForBrowserTests("staff console roles");

describe.skipIf(!chromiumAvailable)("staff console by role, in headless Chromium", { timeout: browserTestTimeout }, () => {
  const build = tempDir("masquerade-console-build-");
  beforeAll(() => buildConsole(build.path));
  // One attempt per delivery: a failing receiver makes a FAILED delivery at once.
  const { t, world } = useTestWorld({ app: { consoleDirectory: build.path, env: { WEBHOOK_MAX_ATTEMPTS: "1" } } });
  const screens = screenshotDirectory();
  let browser: Browser;
  let receiver: WebhookReceiver;
  const people: ConsoleUser[] = [];

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    browser = await launchChromium();
    // An active session for the Sessions page.
    await startSession(t, world);
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    build.remove();
  });

  async function signedIn(apiKey: string, path?: string): Promise<Page> {
    const someone = await openConsoleUser(browser);
    people.push(someone);
    await signIn(someone.page, t.baseUrl, apiKey, path);
    return someone.page;
  }

  async function sections(page: Page): Promise<string[]> {
    return page.getByRole("navigation", { name: "Console sections" }).getByRole("link").allTextContents();
  }

  async function openJane(page: Page): Promise<void> {
    await page.getByRole("link", { name: "jane@customer.com" }).click();
    await page.getByRole("heading", { name: "jane@customer.com" }).waitFor();
    await page.getByRole("heading", { name: "Impersonation sessions" }).waitFor();
  }

  it("ADMIN: every section, and every control", async () => {
    const page = await signedIn(world.admin.apiKey);
    expect(await sections(page)).toEqual(["Users", "Sessions", "Activity", "Approvals", "Policy", "Team", "Webhooks"]);
    await openJane(page);
    await page.getByRole("heading", { name: "Impersonate user" }).waitFor();
    await page.getByTestId("explain").filter({ hasText: "Allowed" }).waitFor();
    await page.getByRole("button", { name: "Protect this user" }).waitFor();
    await page.getByRole("link", { name: "Team", exact: true }).click();
    await page.getByRole("button", { name: "Disable" }).first().waitFor();
    expect(await page.getByRole("button", { name: "Disable" }).count()).toBe(3);
  });

  it("DEVELOPER: Webhooks but no Approvals; the team and the policy read-only", async () => {
    const page = await signedIn(world.developer.apiKey);
    expect(await sections(page)).toEqual(["Users", "Sessions", "Activity", "Policy", "Team", "Webhooks"]);
    await openJane(page);
    await page.getByRole("heading", { name: "Impersonate user" }).waitFor();
    expect(await page.getByRole("button", { name: "Protect this user" }).count()).toBe(0);
    await page.getByRole("link", { name: "Team", exact: true }).click();
    await page.getByRole("cell", { name: world.viewer.email }).waitFor();
    expect(await page.getByRole("button", { name: /Disable|Change role/ }).count()).toBe(0);
    await page.getByRole("link", { name: "Policy", exact: true }).click();
    await page.getByText("Only an ADMIN can change the policy").waitFor();
    expect(await page.getByRole("button", { name: "Save policy" }).count()).toBe(0);
  });

  it("SUPPORT_MANAGER: impersonates and revokes, no Webhooks or Approvals", async () => {
    const page = await signedIn(world.supportManager.apiKey);
    expect(await sections(page)).toEqual(["Users", "Sessions", "Activity", "Policy", "Team"]);
    await openJane(page);
    await page.getByRole("heading", { name: "Impersonate user" }).waitFor();
    await page.getByRole("link", { name: "Sessions", exact: true }).click();
    await page.getByRole("button", { name: /^Revoke/ }).first().waitFor();
  });

  it("VIEWER: a read-only console, with no Impersonate, Revoke, Save or member controls", async () => {
    const page = await signedIn(world.viewer.apiKey);
    expect(await sections(page)).toEqual(["Users", "Sessions", "Activity", "Policy", "Team"]);
    await openJane(page);
    expect(await page.getByRole("heading", { name: "Impersonate user" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /Launch|Request approval/ }).count()).toBe(0);
    // The user's sessions are listed, without Revoke.
    await page.locator("tr[data-session-id]").first().waitFor();
    expect(await page.getByRole("button", { name: /^Revoke/ }).count()).toBe(0);
    await page.getByRole("link", { name: "Sessions", exact: true }).click();
    await page.locator("tr[data-session-id]").first().waitFor();
    expect(await page.getByRole("button", { name: /^Revoke/ }).count()).toBe(0);
    await screenshot(page, screens, "viewer-sessions");
    await page.getByRole("link", { name: "Policy", exact: true }).click();
    await page.getByText("Only an ADMIN can change the policy").waitFor();
    expect(await page.getByLabel("Allow impersonation").isDisabled()).toBe(true);
    await page.getByRole("link", { name: "Team", exact: true }).click();
    await page.getByRole("cell", { name: world.viewer.email }).waitFor();
    expect(await page.getByRole("button", { name: /Disable|Change role/ }).count()).toBe(0);
    // A typed address of a section the role may not use shows Users instead.
    await page.goto(`${t.baseUrl}/console/webhooks`);
    await page.getByRole("heading", { name: "Users" }).waitFor();
    await page.goto(`${t.baseUrl}/console/approvals`);
    await page.getByRole("heading", { name: "Users" }).waitFor();
  });

  it("Webhooks: an endpoint, a failed delivery with its attempt, and Retry", async () => {
    receiver.failAll(503);
    const created = await gqlOk(t.url, world.admin.credential, webhookOps.create, { input: { projectId: world.projectId, url: receiver.url, eventTypes: ["direct.user.impersonate"] } });
    const endpointId = created.createWebhookEndpoint.endpoint.id;
    await startSession(t, world);
    const delivery = await eventually(async () => {
      const data = await gqlOk(t.url, world.admin.credential, ConsoleWebhookDeliveriesDocument, { projectId: world.projectId, endpointId });
      return data.webhookDeliveries.edges.find((edge) => edge.node.status === "FAILED")?.node;
    }, 15_000, "a FAILED delivery");

    const page = await signedIn(world.developer.apiKey, "/console/webhooks");
    await page.getByRole("cell", { name: receiver.url }).waitFor();
    const card = page.locator(`li[data-delivery-id="${delivery.id}"]`);
    await card.getByText("FAILED", { exact: true }).waitFor();
    await card.getByText("Attempts").click();
    await card.locator("details table").getByText("HTTP 503").waitFor();
    await screenshot(page, screens, "webhooks");

    receiver.recover();
    await card.getByRole("button", { name: "Retry delivery" }).click();
    await eventually(async () => {
      const data = await gqlOk(t.url, world.admin.credential, ConsoleWebhookDeliveriesDocument, { projectId: world.projectId, endpointId });
      return data.webhookDeliveries.edges.some((edge) => edge.node.id === delivery.id && edge.node.status === "SUCCEEDED");
    }, 15_000, "the retried delivery to succeed");
    await page.getByRole("button", { name: "Refresh" }).click();
    await card.getByText("SUCCEEDED", { exact: true }).waitFor();
    expect(receiver.accepted().length).toBeGreaterThanOrEqual(1);
  });

  it("works from the keyboard alone, with a visible focus ring", async () => {
    const someone = await openConsoleUser(browser);
    people.push(someone);
    const { page } = someone;
    await page.goto(`${t.baseUrl}/console`);
    await page.getByLabel("Member API key").waitFor();
    // Tab to the key field, type, Enter.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe("api-key");
    await page.keyboard.type(world.supportManager.apiKey);
    await page.keyboard.press("Enter");
    await page.getByTestId("signed-in-as").waitFor();
    // Tab along to the Sessions link and follow it with Enter.
    const sessionsLink = page.getByRole("link", { name: "Sessions", exact: true });
    for (let presses = 0; presses < 15 && !(await sessionsLink.evaluate((link) => link === (link as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement)); presses++) {
      await page.keyboard.press("Tab");
    }
    const outline = await sessionsLink.evaluate((link) => {
      const view = (link as unknown as { ownerDocument: { defaultView: { getComputedStyle(element: unknown): { outlineStyle: string; outlineWidth: string } } } }).ownerDocument.defaultView;
      const style = view.getComputedStyle(link);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    });
    expect(outline).toBe("solid 3px");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Active sessions" }).waitFor();
    // The new page has the focus: the next Tab lands inside it, not back in the navigation.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe("main");
  });

  it("raised no Content-Security-Policy violation on any page", () => {
    expect(people.length).toBeGreaterThan(3);
    expect(people.flatMap((someone) => someone.cspViolations)).toEqual([]);
  });
});
