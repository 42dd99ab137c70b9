import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asBackend, asFrontend, asMember, gql } from "./harness/client.js";
import { AUTHENTICATE_TOKEN, countRows, CREATE_TOKEN, CREATE_USER, expectCode, expectOk, SESSIONS, SET_POLICY } from "./harness/core-operations.js";
import { freshDatabaseUrl, type FreshDatabase } from "./harness/databases.js";
import { buildIntoTempDir } from "./harness/build.js";
import { startTestApp, tempDir, type TestApp } from "./harness/test-app.js";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "..");

/** The CLI as `npm run bootstrap` builds it (see buildIntoTempDir). */
let build: Awaited<ReturnType<typeof buildIntoTempDir>> | undefined;
let cli: string;

beforeAll(async () => {
  build = await buildIntoTempDir("masquerade-bootstrap-build-", join("scripts", "bootstrap.js"));
  cli = build.entry;
}, 120_000);
afterAll(() => build?.remove());

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function bootstrapCli(databaseUrl: string, args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run("node", [cli, ...args], { cwd: repoRoot, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1]!;
}

interface BootstrapOutput {
  adminMemberId: string;
  adminApiKey: string;
  projectId: string;
  projectSecret: string;
  publicToken: string;
}

/** Uses every credential the CLI printed; returns the launchUrl of a token created with them. */
async function launchUrlWith(t: TestApp, out: BootstrapOutput): Promise<string> {
  const admin = asMember(out.adminApiKey);
  expectOk(await gql(t.url, admin, SET_POLICY, { projectId: out.projectId, input: { allowImpersonation: true } }));
  const userId = expectOk(await gql(t.url, admin, CREATE_USER, { input: { projectId: out.projectId, email: "first@customer.com" } })).createUser.id;
  const created = expectOk(await gql(t.url, admin, CREATE_TOKEN, { input: { projectId: out.projectId, userId, reason: "First run" } }));

  expectOk(await gql(t.url, asBackend(out.projectId, out.projectSecret), SESSIONS, { projectId: out.projectId }));
  // The public token is a valid credential: it reaches the token check instead of UNAUTHENTICATED.
  expectCode(await gql(t.url, asFrontend(out.publicToken), AUTHENTICATE_TOKEN, { token: "garbage" }), "IMPERSONATION_TOKEN_NOT_FOUND");
  return created.createImpersonationToken.launchUrl;
}

describe("the bootstrap CLI (SPEC §2)", () => {
  let db: FreshDatabase;
  let out: BootstrapOutput;
  const redirectUrl = "https://support.example.com/impersonate?source=console";

  beforeAll(async () => {
    db = await freshDatabaseUrl();
  });
  afterAll(async () => db?.drop());

  it("creates the first ADMIN and project and prints one JSON object on the last stdout line", async () => {
    const result = await bootstrapCli(db.url, ["--admin-email", "admin@example.com", "--project", "Demo", "--redirect-url", redirectUrl, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    out = JSON.parse(lastLine(result.stdout));
    expect(Object.keys(out).sort()).toEqual(["adminApiKey", "adminMemberId", "projectId", "projectSecret", "publicToken"]);
    for (const value of Object.values(out)) expect(value).toMatch(/^\S{8,}$/);
    expect(new Set(Object.values(out)).size).toBe(5);
  });

  it("honours --redirect-url: a server on that database builds launchUrl from it", async () => {
    const t = await startTestApp({ databaseUrl: db.url });
    try {
      const launchUrl = new URL(await launchUrlWith(t, out));
      expect(`${launchUrl.origin}${launchUrl.pathname}`).toBe("https://support.example.com/impersonate");
      expect(launchUrl.searchParams.get("source")).toBe("console");
      expect(launchUrl.searchParams.get("token_type")).toBe("impersonation");
      expect(launchUrl.searchParams.get("token")).toBeTruthy();
    } finally {
      await t.close();
    }
  });

  it("refuses to run on a bootstrapped database: non-zero exit, a clear message, nothing changed", async () => {
    const t = await startTestApp({ databaseUrl: db.url });
    try {
      const tables = ["team_members", "member_api_keys", "projects", "users", "audit_events"];
      const counts = async () => Promise.all(tables.map((table) => countRows(t, table)));
      const before = await counts();

      const result = await bootstrapCli(db.url, ["--admin-email", "second@example.com", "--project", "Again", "--json"]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/already bootstrapped/i);
      expect(result.stdout).not.toMatch(/adminApiKey/);
      expect(await counts()).toEqual(before);

      // The original ADMIN key still works; the refused run created no second one.
      expectOk(await gql(t.url, asMember(out.adminApiKey), SESSIONS, { projectId: out.projectId }));
      expect(await countRows(t, "team_members", "email = ?", ["second@example.com"])).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe("the bootstrap CLI's defaults and input checks", () => {
  const scratch = tempDir("masquerade-bootstrap-db-");
  afterAll(() => scratch.remove());

  it("defaults the login redirect URL to http://localhost:3000/authenticate", async () => {
    const db = await freshDatabaseUrl();
    try {
      const result = await bootstrapCli(db.url, ["--admin-email", "admin@example.com", "--project", "Demo", "--json"]);
      expect(result.code, result.stderr).toBe(0);
      const t = await startTestApp({ databaseUrl: db.url });
      try {
        const launchUrl = new URL(await launchUrlWith(t, JSON.parse(lastLine(result.stdout))));
        expect(`${launchUrl.origin}${launchUrl.pathname}`).toBe("http://localhost:3000/authenticate");
      } finally {
        await t.close();
      }
    } finally {
      await db.drop();
    }
  });

  it("refuses a bad email or redirect URL with a non-zero exit and a message, creating nothing", async () => {
    const url = `sqlite:${join(scratch.path, "bad-input.sqlite")}`;
    const badEmail = await bootstrapCli(url, ["--admin-email", "not-an-email", "--project", "Demo", "--json"]);
    expect(badEmail.code).not.toBe(0);
    expect(badEmail.stderr).toMatch(/admin-email/);
    const badUrl = await bootstrapCli(url, ["--admin-email", "admin@example.com", "--project", "Demo", "--redirect-url", "nope", "--json"]);
    expect(badUrl.code).not.toBe(0);
    expect(badUrl.stderr).toMatch(/redirect-url/);
    const missing = await bootstrapCli(url, ["--json"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--admin-email/);

    // Still not bootstrapped: a correct run succeeds afterwards.
    const good = await bootstrapCli(url, ["--admin-email", "admin@example.com", "--project", "Demo", "--json"]);
    expect(good.code, good.stderr).toBe(0);
  });
});
