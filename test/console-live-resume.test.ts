import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import type { Browser, Locator, WebSocket as PageWebSocket } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventsDocument, CreateImpersonationTokenDocument } from "./__generated__/graphql.js";
import { chromiumForBrowserTests } from "./harness/chromium.js";
import { gqlErrorCode, gqlOk } from "./harness/client.js";
import { browserTestTimeout, buildConsole, launchChromium, nextLiveSubscriber, openConsoleUser, signIn, type ConsoleUser } from "./harness/console-browser.js";
import { issueToken } from "./harness/fixtures.js";
import { tempDir } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

/**
 * The console's Activity page across a dropped connection (SPEC §4.5, §11): the events committed
 * while its WebSocket is down appear once it reconnects, each once and in order, without a reload;
 * the live feed goes on after. The browser reaches the server through a TCP link the test cuts:
 * Chromium's offline emulation (DevTools Network.emulateNetworkConditions) refuses new sockets but
 * leaves an open WebSocket open, so it cannot drop one.
 */
const chromiumAvailable = chromiumForBrowserTests("staff console live resume");

/** A TCP link to the app: while cut, every connection through it is closed, and new ones are refused. */
interface Link {
  origin: string;
  /** Connections refused while cut. */
  refused(): number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

async function startLink(targetPort: number): Promise<Link> {
  const open = new Set<Socket>();
  let isCut = false;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (isCut) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    const end = () => {
      for (const socket of [client, upstream]) {
        socket.destroy();
        open.delete(socket);
      }
    };
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("error", end).on("close", end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused: () => refused,
    cut() {
      isCut = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      isCut = false;
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The subscribe messages a page's WebSocket sent for the Activity feed, in order. */
interface SentSubscription {
  socket: number;
  afterSeq: number | null;
}

describe.skipIf(!chromiumAvailable)("staff console Activity across a dropped connection, in headless Chromium", { timeout: browserTestTimeout }, () => {
  const build = tempDir("masquerade-console-build-");
  beforeAll(() => buildConsole(build.path));
  const { t, world } = useTestWorld({ app: { consoleDirectory: build.path } });
  let browser: Browser;
  let link: Link;

  beforeAll(async () => {
    link = await startLink(t.app.port);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await link?.close();
    build.remove();
  });

  /** A refused createImpersonationToken by the VIEWER: one FAILURE event with `reason`. */
  async function refusedAttempt(reason: string): Promise<void> {
    expect(await gqlErrorCode(t.url, world.viewer.credential, CreateImpersonationTokenDocument, { input: { projectId: world.projectId, userId: world.userId, reason } })).toBe("FORBIDDEN");
  }

  /** The project's newest `count` events, newest first, as the API lists them. */
  async function newest(count: number) {
    const page = await gqlOk(t.url, world.admin.credential, AuditEventsDocument, { projectId: world.projectId, first: count });
    return page.auditEvents.edges.map((edge) => edge.node);
  }

  function shownIds(rows: Locator): Promise<string[]> {
    return rows.evaluateAll((elements) => elements.map((element) => element.getAttribute("data-event-id") ?? ""));
  }

  it("shows the events committed while its WebSocket was down once it reconnects, each once and in order, then live ones again", async () => {
    await refusedAttempt("before the page 1");
    await issueToken(t, world, world.supportManager, "before the page 2");

    const someone: ConsoleUser = await openConsoleUser(browser);
    const { page } = someone;
    const sockets: PageWebSocket[] = [];
    const subscriptions: SentSubscription[] = [];
    page.on("websocket", (socket) => {
      const index = sockets.push(socket) - 1;
      socket.on("framesent", (frame) => {
        const message = JSON.parse(String(frame.payload)) as { type: string; payload?: { query?: string; variables?: { afterSeq?: number | null } } };
        if (message.type === "subscribe" && message.payload?.query?.includes("subscription ConsoleAuditEventAdded")) {
          subscriptions.push({ socket: index, afterSeq: message.payload.variables?.afterSeq ?? null });
        }
      });
    });
    /** The Activity page's list queries (a reload of the log would send one). */
    let listQueries = 0;
    page.on("request", (request) => {
      if (request.postData()?.includes("query ConsoleAuditEvents")) listQueries++;
    });

    const subscribed = nextLiveSubscriber(t);
    await signIn(page, link.origin, world.admin.apiKey, "/console/activity");
    const rows = page.locator("tr[data-event-id]");
    const liveDot = page.locator(".live-live");
    await liveDot.waitFor();
    await subscribed();
    await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
    const loaded = await newest(25);
    await expect.poll(() => shownIds(rows), { timeout: 20_000 }).toEqual(loaded.map((event) => event.id));
    expect(subscriptions).toEqual([{ socket: 0, afterSeq: loaded[0]!.seq }]);

    // One event arrives live before the cut: the newest the page has shown comes from the feed.
    await refusedAttempt("live before the cut");
    const [beforeCut] = await newest(1);
    await page.locator(`tr.fresh[data-event-id="${beforeCut!.id}"]`).waitFor();

    // Cut: the page's socket closes, and the server no longer listens for it.
    const listening = t.app.services.auditQuery.listenerCount();
    const listQueriesBeforeCut = listQueries;
    link.cut();
    await liveDot.waitFor({ state: "detached" });
    await expect.poll(() => t.app.services.auditQuery.listenerCount(), { timeout: 20_000, message: "the server dropped the page's subscription" }).toBe(listening - 1);

    // Committed while the page is offline; the page tries to reconnect, and is refused.
    await refusedAttempt("while down 1");
    await issueToken(t, world, world.supportManager, "while down 2");
    await refusedAttempt("while down 3");
    const missed = (await newest(3)).reverse();
    expect(missed.map((event) => event.reason)).toEqual(["while down 1", "while down 2", "while down 3"]);
    await expect.poll(() => link.refused(), { timeout: 20_000, message: "the page tried to reconnect while the link was cut" }).toBeGreaterThan(0);
    for (const event of missed) expect(await page.locator(`tr[data-event-id="${event.id}"]`).count()).toBe(0);

    // Restored: the page re-subscribes after the newest event it had shown, and the missed ones
    // arrive on top, newest first, none twice, with what it showed before below them.
    const resubscribed = nextLiveSubscriber(t);
    link.restore();
    await liveDot.waitFor({ timeout: 30_000 });
    await resubscribed();
    await page.locator(`tr.fresh[data-event-id="${missed.at(-1)!.id}"]`).waitFor();
    const expected = [...[...missed].reverse(), beforeCut!, ...loaded].map((event) => event.id);
    await expect.poll(() => shownIds(rows), { timeout: 20_000 }).toEqual(expected);
    expect(new Set(expected).size).toBe(expected.length);
    expect(subscriptions).toHaveLength(2);
    expect(subscriptions[1]!.socket).toBeGreaterThan(0);
    expect(subscriptions[1]!.afterSeq).toBe(beforeCut!.seq);
    for (const event of missed) expect(await page.locator(`tr.fresh[data-event-id="${event.id}"]`).count()).toBe(1);

    // The control: a live event after the reconnect still arrives, once, on top.
    await refusedAttempt("live after the reconnect");
    const [afterReconnect] = await newest(1);
    await page.locator(`tr.fresh[data-event-id="${afterReconnect!.id}"]`).waitFor();
    await expect.poll(() => shownIds(rows), { timeout: 20_000 }).toEqual([afterReconnect!.id, ...expected]);

    // All of it came through the feed: no reload of the page, nor of the log's list.
    expect(await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(listQueries).toBe(listQueriesBeforeCut);
    expect(someone.cspViolations).toEqual([]);
  });
});
