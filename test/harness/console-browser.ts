import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { print } from "graphql";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { expect } from "vitest";
import { AuthenticateSessionDocument, AuthenticateTokenDocument } from "../__generated__/graphql.js";
import { chromiumPath } from "./global-setup.js";
import { tempDir, type TestApp } from "./test-app.js";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../..");

/**
 * Builds the console as `npm run build` does (`vite build console`), into `outDir`: the suite runs
 * files in parallel and other work may `rm -rf dist`, so each browser test file has its own build.
 * Vite's lock refuses a second build of one project at a time even into another directory; the
 * builds here never share an output, so they bypass it.
 */
export async function buildConsole(outDir: string): Promise<void> {
  await run("npx", ["vite", "build", "console", "--outDir", outDir, "--emptyOutDir", "--bypass-lock", "--logLevel", "error"], { cwd: repoRoot, timeout: 120_000 });
}

/** Per test of the browser files: a few browser steps each, on a machine that may be busy. */
export const browserTestTimeout = 90_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"],
  });
}

/**
 * A browser context for one person, recording what the console must never do: violate its CSP, or
 * put a secret in a URL it requests.
 */
export interface ConsoleUser {
  context: BrowserContext;
  page: Page;
  /** CSP violations reported by the page (securitypolicyviolation) or by Chromium's console. */
  cspViolations: string[];
  /** Every URL the context requested. */
  requestedUrls: string[];
}

export async function openConsoleUser(browser: Browser): Promise<ConsoleUser> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 820 } });
  const cspViolations: string[] = [];
  const requestedUrls: string[] = [];
  await context.exposeBinding("__reportCsp", (_source, text: string) => void cspViolations.push(text));
  await context.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (event) => window.__reportCsp(event.violatedDirective + " " + event.blockedURI + " at " + event.sourceFile + ":" + event.lineNumber));`,
  });
  context.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  context.on("request", (request) => void requestedUrls.push(request.url()));
  const page = await context.newPage();
  // Well under the test's own timeout (browserTestTimeout), so that a missing element is reported
  // as such; generous, for a machine busy with other work.
  context.setDefaultTimeout(20_000);
  return { context, page, cspViolations, requestedUrls };
}

/**
 * Signs in at /console with `apiKey`, waits for the console to show who is signed in, and picks
 * the project (the test world's first project, "Demo", unless told).
 */
export async function signIn(page: Page, baseUrl: string, apiKey: string, path = "/console/users", project = "Demo"): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.getByLabel("Member API key").fill(apiKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-as").waitFor();
  const picker = page.getByLabel("Project", { exact: true });
  if ((await picker.inputValue()) !== (await picker.locator("option", { hasText: project }).getAttribute("value"))) await picker.selectOption({ label: project });
}

/**
 * For a page about to subscribe to the live feed: call before it opens, await the returned wait
 * before making an event the page must see. The page's "Live feed on" means the socket was
 * accepted; the server starts listening for its subscription a few steps later (graphql-ws does not
 * acknowledge a subscription), and an event committed in between never reaches the page.
 */
export function nextLiveSubscriber(t: TestApp): () => Promise<void> {
  const before = t.app.services.auditQuery.listenerCount();
  return async () => {
    await expect.poll(() => t.app.services.auditQuery.listenerCount(), { timeout: 20_000, message: "the server listens for the page's live subscription" }).toBeGreaterThan(before);
  };
}

/** The keys of the page's sessionStorage and localStorage. */
export function storageKeys(page: Page): Promise<{ session: string[]; local: string[] }> {
  return page.evaluate(() => {
    const storage = globalThis as unknown as { sessionStorage: Record<string, string>; localStorage: Record<string, string> };
    return { session: Object.keys(storage.sessionStorage), local: Object.keys(storage.localStorage) };
  });
}

/** The screenshots README shows; the others of a run go to a temp directory only. */
const readmeScreenshots = new Set(["user-impersonate", "activity", "sessions", "approvals", "team-disable", "viewer-sessions"]);

/**
 * Where screenshots go: with CONSOLE_SCREENSHOTS=1 (SQLite project only), README's to
 * docs/screenshots; every other one, and every one without it, to a temp directory.
 */
export interface ScreenshotDirectories {
  readme: string | undefined;
  other: string;
}

export function screenshotDirectory(): ScreenshotDirectories {
  const other = tempDir("masquerade-console-screens-").path;
  if (process.env.CONSOLE_SCREENSHOTS === "1" && process.env.TEST_DATABASE !== "postgresql") {
    const readme = join(repoRoot, "docs", "screenshots");
    mkdirSync(readme, { recursive: true });
    return { readme, other };
  }
  return { readme: undefined, other };
}

export async function screenshot(page: Page, directories: ScreenshotDirectories, name: string): Promise<void> {
  const directory = directories.readme && readmeScreenshots.has(name) ? directories.readme : directories.other;
  await page.screenshot({ path: join(directory, `${name}.png`), fullPage: false });
}

/**
 * A tiny application at the project's login redirect URL: /authenticate takes the launch URL's
 * token out of the address bar, exchanges it with the public token (as the application's browser
 * code does), and shows whom it is viewing as; `window.checkSession()` re-authenticates the session.
 */
export interface ApplicationPages {
  origin: string;
  loginUrl: string;
  close(): Promise<void>;
}

const applicationScript = `
const config = JSON.parse(document.getElementById("config").textContent);
const status = document.getElementById("status");
const url = new URL(location.href);
const token = url.searchParams.get("token");
url.searchParams.delete("token");
url.searchParams.delete("token_type");
history.replaceState(null, "", url.pathname + url.search);
const call = (query, variables) =>
  fetch(config.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", "x-public-token": config.publicToken }, body: JSON.stringify({ query, variables }) }).then((response) => response.json());
let sessionToken = null;
window.checkSession = async () => {
  const body = await call(config.authenticateSession, { sessionToken });
  return body.errors ? body.errors[0].extensions.code : "ACTIVE";
};
call(config.authenticateToken, { token }).then((body) => {
  if (body.errors) {
    status.textContent = "Refused: " + body.errors[0].extensions.code;
    return;
  }
  const result = body.data.authenticateImpersonationToken;
  sessionToken = result.sessionToken;
  status.dataset.sessionId = result.session.id;
  status.textContent = "Viewing as " + result.user.email + " (impersonated by " + result.session.authenticationFactors[0].impersonatedFactor.impersonatorEmailAddress + ")";
});
`;

export async function startApplicationPages(config: () => { graphqlUrl: string; publicToken: string }): Promise<ApplicationPages> {
  const queries = { authenticateToken: print(AuthenticateTokenDocument), authenticateSession: print(AuthenticateSessionDocument) };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://app").pathname;
    if (path === "/authenticate") {
      const json = JSON.stringify({ ...config(), ...queries }).replace(/</g, "\\u003c");
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Customer app</title></head><body><h1>Customer app</h1><p id="status">Signing in…</p>
<script id="config" type="application/json">${json}</script><script src="/app.js"></script></body></html>`);
    } else if (path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(applicationScript);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, loginUrl: `${origin}/authenticate`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
