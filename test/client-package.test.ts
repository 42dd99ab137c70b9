import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateImpersonationTokenDocument } from "./__generated__/graphql.js";
import { gqlOk } from "./harness/client.js";
import { tempDir } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";

const run = promisify(execFile);
const packageDir = resolve(import.meta.dirname, "../packages/client");

/**
 * The SDK as a consumer gets it: `npm pack` of packages/client, installed into a fresh directory
 * outside the repository, used by a plain .mjs file (no TypeScript, no bundler) against the real
 * server.
 */
const consumerScript = `
import { MasqueradeClient, MasqueradeError, requireWritable, createBrowserClient, mountImpersonationBanner } from "@masquerade/client";
import * as browserEntry from "@masquerade/client/browser";
import * as operations from "@masquerade/client/operations";

// SPEC §11's constructor as it stands: no issuer (the server's JWKS announces it).
const client = new MasqueradeClient({
  url: process.env.MASQUERADE_URL,
  projectId: process.env.MASQUERADE_PROJECT_ID,
  projectSecret: process.env.MASQUERADE_PROJECT_SECRET,
});
const exchanged = await client.impersonation.authenticate(process.env.TOKEN);
const verified = await client.sessions.authenticateJwt(exchanged.sessionJwt);
let reused;
try {
  await client.impersonation.authenticate(process.env.TOKEN);
} catch (error) {
  reused = { isMasqueradeError: error instanceof MasqueradeError, code: error.code };
}
// The browser client from the main entry, in Node (no sessionStorage: it keeps the session in memory).
const browser = createBrowserClient({ url: process.env.MASQUERADE_URL, publicToken: process.env.MASQUERADE_PUBLIC_TOKEN });
const browserSession = await browser.authenticateByUrl(process.env.LAUNCH_URL);
const documents = Object.keys(operations).filter((name) => name.endsWith("Document"));
const exchange = operations.AuthenticateImpersonationTokenDocument.definitions[0];
console.log(JSON.stringify({
  verified: { ...verified, expiresAt: verified.expiresAt.toISOString() },
  sessionId: exchanged.session.sessionId,
  reused,
  requireWritable: typeof requireWritable,
  createBrowserClient: typeof createBrowserClient,
  mountImpersonationBanner: typeof mountImpersonationBanner,
  sameAsBrowserEntry: browserEntry.createBrowserClient === createBrowserClient && browserEntry.mountImpersonationBanner === mountImpersonationBanner,
  browserSession: { userId: browserSession.userId, current: browser.session.current()?.sessionId === browserSession.sessionId },
  documents: documents.length,
  exchange: { kind: exchange.kind, operation: exchange.operation, name: exchange.name.value },
}));
`;

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((total, name) => total + sizeOf(join(path, name)), 0);
}

describe("the packed @masquerade/client in a fresh project", () => {
  const { t, world } = useTestWorld({ world: { allowFrontendAuthentication: true } });
  const work = tempDir("masquerade-consumer-");
  let tarball: string;
  let packedFiles: string[];

  beforeAll(async () => {
    // The global setup compiled dist/; --ignore-scripts skips prepack's second build.
    const { stdout } = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work.path], { cwd: packageDir, timeout: 60_000 });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work.path, packed!.filename);
    packedFiles = packed!.files.map((file) => file.path);
    const app = join(work.path, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    writeFileSync(join(app, "consumer.mjs"), consumerScript);
    // jose comes from npm's cache when it is there (the repository's own install put it there).
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], { cwd: app, timeout: 120_000 });
  }, 180_000);
  afterAll(() => work.remove());

  it("packs only what a consumer needs: compiled modules, declarations, README, LICENSE", () => {
    expect(packedFiles).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts", "dist/browser.js", "dist/browser.d.ts", "dist/generated/operations.js", "dist/generated/operations.d.ts"]));
    expect(packedFiles.filter((path) => !["package.json", "README.md", "LICENSE"].includes(path) && !/^dist\/.+\.(js|d\.ts)$/.test(path))).toEqual([]);
  });

  it("installs without the server's dependencies", () => {
    const modules = join(work.path, "app", "node_modules");
    expect(readdirSync(modules).filter((name) => !name.startsWith(".")).sort()).toEqual(["@masquerade", "jose"]);
    expect(sizeOf(modules)).toBeLessThan(1_500_000);
  });

  it("runs from a plain .mjs file: exchanges a token, verifies the JWT locally, exposes the browser client and the operations", async () => {
    const issue = async () =>
      (await gqlOk(t.url, world.supportManager.credential, CreateImpersonationTokenDocument, { input: { projectId: world.projectId, userId: world.userId, reason: "consumer test" } }))
        .createImpersonationToken;
    const { token } = await issue();
    const { launchUrl } = await issue();
    const { stdout } = await run(process.execPath, ["consumer.mjs"], {
      cwd: join(work.path, "app"),
      env: {
        PATH: process.env.PATH,
        MASQUERADE_URL: t.url,
        MASQUERADE_PROJECT_ID: world.projectId,
        MASQUERADE_PROJECT_SECRET: world.projectSecret,
        MASQUERADE_PUBLIC_TOKEN: world.publicToken,
        TOKEN: token,
        LAUNCH_URL: launchUrl,
      },
      timeout: 30_000,
    });
    const result = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(result.verified).toMatchObject({ sessionId: result.sessionId, userId: world.userId, projectId: world.projectId, impersonator: { id: world.supportManager.id, email: world.supportManager.email } });
    expect(result.reused).toEqual({ isMasqueradeError: true, code: "IMPERSONATION_TOKEN_ALREADY_USED" });
    expect(result.requireWritable).toBe("function");
    expect(result.createBrowserClient).toBe("function");
    expect(result.mountImpersonationBanner).toBe("function");
    expect(result.sameAsBrowserEntry).toBe(true);
    expect(result.browserSession).toEqual({ userId: world.userId, current: true });
    expect(result.documents).toBeGreaterThan(30);
    expect(result.exchange).toEqual({ kind: "OperationDefinition", operation: "mutation", name: "AuthenticateImpersonationToken" });
  });
});
