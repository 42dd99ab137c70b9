import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleSessionsDocument } from "../console/src/generated/graphql.js";
import { AuthenticateSessionDocument } from "./__generated__/graphql.js";
import { chromiumForBrowserTests } from "./harness/chromium.js";
import { gqlErrorCode, gqlOk } from "./harness/client.js";
import { browserTestTimeout, buildConsole, launchChromium, nextLiveSubscriber, openConsoleUser, signIn, type ConsoleUser } from "./harness/console-browser.js";
import { startSession } from "./harness/fixtures.js";
import { tempDir } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * The console's session lists page (SPEC §11): with more active impersonations than one page
 * holds, Sessions shows the newest 50 and "More sessions" the rest, and any of them can be revoked;
 * a live reload keeps the pages opened, with no row twice. The user page pages its sessions too.
 */
const chromiumAvailable = chromiumForBrowserTests("staff console session paging");

/** The console's page size on Sessions (console/src/pages/sessions.tsx). */
const pageSize = 50;
const sessionCount = pageSize + 5;

describe.skipIf(!chromiumAvailable)("staff console session paging, in headless Chromium", { timeout: browserTestTimeout }, () => {
  const build = tempDir("masquerade-console-build-");
  beforeAll(() => buildConsole(build.path));
  const { t, world } = useTestWorld({ app: { consoleDirectory: build.path } });
  let browser: Browser;
  const people: ConsoleUser[] = [];
  /** Session tokens by session id, to ask the API about a session as the application would. */
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    for (let i = 0; i < sessionCount; i++) {
      const started = await startSession(t, world);
      tokens.set(started.session.id, started.sessionToken);
    }
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    build.remove();
  });

  async function signedIn(path: string): Promise<Page> {
    const someone = await openConsoleUser(browser);
    people.push(someone);
    await signIn(someone.page, t.baseUrl, world.supportManager.apiKey, path);
    return someone.page;
  }

  /** The session ids of the table's rows, in order. */
  function shownIds(rows: Locator): Promise<string[]> {
    return rows.evaluateAll((elements) => elements.map((element) => element.getAttribute("data-session-id") ?? ""));
  }

  async function activePages() {
    const first = await gqlOk(t.url, world.admin.credential, ConsoleSessionsDocument, { projectId: world.projectId, activeOnly: true, first: pageSize });
    const after = first.sessions.pageInfo.endCursor;
    const second = await gqlOk(t.url, world.admin.credential, ConsoleSessionsDocument, { projectId: world.projectId, activeOnly: true, first: pageSize, after });
    const ids = (connection: typeof first) => connection.sessions.edges.map((edge) => edge.node.id);
    return { first: ids(first), second: ids(second), secondHasNext: second.sessions.pageInfo.hasNextPage };
  }

  it("Sessions: the newest page, More sessions for the rest, a second-page session revoked, and a live reload that keeps the pages", async () => {
    const api = await activePages();
    expect(api.first).toHaveLength(pageSize);
    expect(api.second).toHaveLength(sessionCount - pageSize);
    expect(api.secondHasNext).toBe(false);

    const subscribed = nextLiveSubscriber(t);
    const page = await signedIn("/console/sessions");
    const rows = page.locator("tr[data-session-id]");
    const more = page.getByRole("button", { name: "More sessions" });
    const status = page.getByRole("status").filter({ hasText: /^Showing/ });

    // The first page: the newest 50, in the API's order, and a way to the rest.
    await more.waitFor();
    await expect.poll(() => shownIds(rows)).toEqual(api.first);
    expect(await status.textContent()).toBe(`Showing the newest ${pageSize} active sessions.`);
    expect(await page.locator(`tr[data-session-id="${api.second[0]}"]`).count()).toBe(0);

    // More, from the keyboard: the rest, after the first page, with no row twice.
    await more.focus();
    await page.keyboard.press("Enter");
    await more.waitFor({ state: "detached" });
    await expect.poll(() => shownIds(rows)).toEqual([...api.first, ...api.second]);
    expect(await status.textContent()).toBe(`Showing all ${sessionCount} active sessions.`);

    // Revoke a session only the second page showed: it goes, the opened pages stay.
    await subscribed();
    const target = api.second[2]!;
    const targetRow = page.locator(`tr[data-session-id="${target}"]`);
    await targetRow.getByRole("button", { name: /^Revoke/ }).click();
    await targetRow.waitFor({ state: "detached" });
    expect(await gqlErrorCode(t.url, world.backend, AuthenticateSessionDocument, { sessionToken: tokens.get(target)! })).toBe("SESSION_REVOKED");
    const afterRevoke = await activePages();
    expect([...afterRevoke.first, ...afterRevoke.second]).not.toContain(target);
    await expect.poll(() => shownIds(rows)).toEqual([...api.first, ...api.second].filter((id) => id !== target));

    // A session that starts later, elsewhere, arrives live at the top; the pages below stay, once each.
    t.clock.advanceSeconds(1);
    const arrived = await startSession(t, world);
    await page.locator(`tr[data-session-id="${arrived.session.id}"]`).waitFor();
    const now = await activePages();
    expect(now.first[0]).toBe(arrived.session.id);
    await expect.poll(() => shownIds(rows)).toEqual([...now.first, ...now.second]);
    expect(await more.count()).toBe(0);
    expect(await status.textContent()).toBe(`Showing all ${sessionCount} active sessions.`);
  });

  it("a More page that answers after a reload is not appended to it, and the reload keeps what More opened", async () => {
    const page = await signedIn("/console/sessions");
    const rows = page.locator("tr[data-session-id]");
    const more = page.getByRole("button", { name: "More sessions" });
    await more.waitFor();
    await expect.poll(() => rows.count()).toBe(pageSize);

    // Hold the "More sessions" request until the reload Refresh starts has answered.
    const sessionsQuery = (body: { query?: string } | null) => body?.query?.includes("query ConsoleSessions") === true;
    let heldMore!: () => Promise<void>;
    let markHeld!: () => void;
    const moreHeld = new Promise<void>((resolve) => (markHeld = resolve));
    // Installed before the click, so the More request cannot leave unseen.
    await page.route("**/graphql", async (route) => {
      const body = route.request().postDataJSON() as { query?: string; variables?: { after?: string | null } } | null;
      if (sessionsQuery(body) && body?.variables?.after) {
        heldMore = () => route.continue();
        markHeld();
      } else await route.continue();
    });
    await more.click();
    await moreHeld;
    const reloaded = page.waitForResponse((response) => {
      const body = response.request().postDataJSON() as { query?: string; variables?: { after?: string | null } } | null;
      return sessionsQuery(body) && !body?.variables?.after;
    });
    await page.getByRole("button", { name: "Refresh" }).click();
    await reloaded;
    const all = await activePages();
    const expected = [...all.first, ...all.second];
    // The reload asked for the page More had asked for too.
    await expect.poll(() => shownIds(rows)).toEqual(expected);

    const lateMore = page.waitForResponse((response) => {
      const body = response.request().postDataJSON() as { query?: string; variables?: { after?: string | null } } | null;
      return sessionsQuery(body) && Boolean(body?.variables?.after);
    });
    const pager = page.locator(".pager");
    expect(await pager.getAttribute("aria-busy")).toBe("true");
    await heldMore();
    await lateMore;
    // The late page belongs to the load before: once the page has taken it, no row twice.
    await page.locator(".pager[aria-busy=false]").waitFor();
    expect(await shownIds(rows)).toEqual(expected);
    expect(await page.getByRole("status").filter({ hasText: /^Showing/ }).textContent()).toBe(`Showing all ${expected.length} active sessions.`);
    expect(await more.count()).toBe(0);
  });

  it("the user page pages a user's sessions, revoked ones included", async () => {
    const all = await gqlOk(t.url, world.admin.credential, ConsoleSessionsDocument, { projectId: world.projectId, userId: world.userId, first: 500 });
    const ids = all.sessions.edges.map((edge) => edge.node.id);
    expect(ids.length).toBeGreaterThan(40);

    const page = await signedIn(`/console/users/${encodeURIComponent(world.userId)}`);
    await page.getByRole("heading", { name: "Impersonation sessions" }).waitFor();
    const rows = page.locator("tr[data-session-id]");
    const more = page.getByRole("button", { name: "More sessions" });
    await expect.poll(() => shownIds(rows)).toEqual(ids.slice(0, 20));
    await more.click();
    await expect.poll(() => shownIds(rows)).toEqual(ids.slice(0, 40));
    await more.click();
    await expect.poll(() => shownIds(rows)).toEqual(ids.slice(0, 60));
    await more.waitFor({ state: "detached" });
    await page.getByRole("status").filter({ hasText: `Showing all ${ids.length} sessions of this user.` }).waitFor();
    // The session revoked from Sessions is listed, as revoked.
    await rows.filter({ hasText: "Revoked" }).first().waitFor();
  });

  it("raised no Content-Security-Policy violation on any page", () => {
    expect(people).toHaveLength(3);
    expect(people.flatMap((someone) => someone.cspViolations)).toEqual([]);
  });
});
