import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asBackend, asFrontend, asMember, gql } from "./harness/client.js";
import { AUTHENTICATE_TOKEN, countRows, CREATE_TOKEN, CREATE_USER, expectCode, expectOk, SESSIONS, SET_POLICY } from "./harness/core-operations.js";
import { freshDatabaseUrl, type FreshDatabase } from "./harness/databases.js";
import { buildIntoTempDir } from "./harness/build.js";
import { startTestApp, tempDir, type TestApp } from "./harness/test-app.js";
import { hostRuns, skipWithout } from "./harness/host-tools.js";

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

async function bootstrapCli(databaseUrl: string, args: string[], cwd = repoRoot): Promise<CliResult> {
  return runCommand("node", [cli, ...args], databaseUrl, cwd);
}

async function runCommand(command: string, args: string[], databaseUrl: string, cwd = repoRoot): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 });
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
      expect(launchUrl.searchParams.get("token")).toMatch(/^mq_imp_\S+$/);
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

const credentialKeys = ["adminApiKey", "adminMemberId", "projectId", "projectSecret", "publicToken"];
const bootstrapTables = ["team_members", "member_api_keys", "projects", "users", "audit_events"];

async function tableCounts(t: TestApp): Promise<number[]> {
  return Promise.all(bootstrapTables.map((table) => countRows(t, table)));
}

function expectNoSecretIn(text: string, out: BootstrapOutput): void {
  for (const secret of [out.adminApiKey, out.projectSecret, out.publicToken]) expect(text).not.toContain(secret);
}

describe("bootstrap --out (SPEC §8)", () => {
  const scratch = tempDir("masquerade-bootstrap-out-");
  afterAll(() => scratch.remove());

  describe("on a fresh database", () => {
    let db: FreshDatabase;
    let out: BootstrapOutput;
    const file = join(scratch.path, "bootstrap.json");
    beforeAll(async () => {
      db = await freshDatabaseUrl();
    });
    afterAll(async () => db?.drop());

    it("writes the credentials to a new 0600 file and prints none of them", async () => {
      const result = await bootstrapCli(db.url, ["--admin-email", "admin@example.com", "--project", "Demo", "--out", file]);
      expect(result.code, result.stderr).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      out = JSON.parse(readFileSync(file, "utf8"));
      expect(Object.keys(out).sort()).toEqual(credentialKeys);
      expect(new Set(Object.values(out)).size).toBe(5);
      expect(result.stdout).toContain(file);
      expectNoSecretIn(result.stdout + result.stderr, out);

      const t = await startTestApp({ databaseUrl: db.url });
      try {
        await launchUrlWith(t, out);
      } finally {
        await t.close();
      }
    });

    it("refuses a second run with the same --out: non-zero exit, one line, the file and the database unchanged", async () => {
      const before = readFileSync(file);
      const t = await startTestApp({ databaseUrl: db.url });
      try {
        const counts = await tableCounts(t);
        const result = await bootstrapCli(db.url, ["--admin-email", "second@example.com", "--project", "Again", "--out", file]);
        expect(result.code).not.toBe(0);
        expect(result.stderr.trim().split("\n")).toHaveLength(1);
        expect(result.stderr).toMatch(/refusing to overwrite .*bootstrap\.json.*already exists/i);
        expect(result.stdout).toBe("");
        expect(readFileSync(file).equals(before)).toBe(true);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect(await tableCounts(t)).toEqual(counts);
        expect(await countRows(t, "team_members", "email = ?", ["second@example.com"])).toBe(0);
        expectOk(await gql(t.url, asMember(out.adminApiKey), SESSIONS, { projectId: out.projectId }));
      } finally {
        await t.close();
      }
    });

    it("refuses a bootstrapped database with a new --out and leaves no file behind", async () => {
      const other = join(scratch.path, "other.json");
      const result = await bootstrapCli(db.url, ["--admin-email", "second@example.com", "--project", "Again", "--out", other]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/already bootstrapped/i);
      expect(existsSync(other)).toBe(false);
    });
  });

  it("refuses an existing --out file before it touches a fresh database, which a later run can still bootstrap", async () => {
    const db = await freshDatabaseUrl();
    try {
      const existing = join(scratch.path, "existing.json");
      writeFileSync(existing, "earlier credentials\n");
      const refused = await bootstrapCli(db.url, ["--admin-email", "admin@example.com", "--project", "Demo", "--out", existing]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/refusing to overwrite .*existing\.json/i);
      expect(readFileSync(existing, "utf8")).toBe("earlier credentials\n");

      const both = await bootstrapCli(db.url, ["--admin-email", "admin@example.com", "--project", "Demo", "--out", join(scratch.path, "unused.json"), "--json"]);
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/choose one/);
      expect(existsSync(join(scratch.path, "unused.json"))).toBe(false);

      // Not bootstrapped by the refused runs: a run without the file succeeds.
      const later = await bootstrapCli(db.url, ["--admin-email", "admin@example.com", "--project", "Demo", "--json"]);
      expect(later.code, later.stderr).toBe(0);
      expect(Object.keys(JSON.parse(lastLine(later.stdout))).sort()).toEqual(credentialKeys);
    } finally {
      await db.drop();
    }
  });

  // A full disk, for real: a 4 KiB tmpfs, already full, mounted over the --out directory in a
  // mount namespace of the CLI's own (user namespaces let an unprivileged user do it).
  const fullDisk = join(scratch.path, "full");
  const canMountTmpfs = hostRuns("unshare", ["-rm", "sh", "-c", `mkdir -p '${fullDisk}' && mount -t tmpfs -o size=4k tmpfs '${fullDisk}'`]);
  it.skipIf(skipWithout(canMountTmpfs))(
    "prints the credentials on stdout, and says so, when the file cannot be written after the database was bootstrapped (needs unshare -rm)",
    async () => {
      const db = await freshDatabaseUrl();
      try {
        const file = join(fullDisk, "bootstrap.json");
        const script = `mount -t tmpfs -o size=4k tmpfs '${fullDisk}' && head -c 4096 /dev/zero > '${fullDisk}/filler' || exit 99
node "$@"; code=$?; ls -A '${fullDisk}' >&2; exit $code`;
        const result = await runCommand("unshare", ["-rm", "sh", "-c", script, "sh", cli, "--admin-email", "admin@example.com", "--project", "Demo", "--out", file], db.url);
        expect(result.code, result.stderr).not.toBe(0);
        expect(result.code).not.toBe(99);
        expect(result.stderr).toMatch(/bootstrapped .* but writing .*bootstrap\.json failed \(ENOSPC\).*printed on stdout/i);
        // The partial file is gone; only the filler remains.
        expect(result.stderr.trim().split("\n").at(-1)).toBe("filler");

        const out: BootstrapOutput = JSON.parse(lastLine(result.stdout));
        expect(Object.keys(out).sort()).toEqual(credentialKeys);
        const t = await startTestApp({ databaseUrl: db.url });
        try {
          await launchUrlWith(t, out);
        } finally {
          await t.close();
        }
      } finally {
        await db.drop();
      }
    },
  );
});

/** README's worked example: the bootstrap command of its first terminal, and its ```sh blocks in order. */
function readmeWorkedExample(): { bootstrapCommand: string; blocks: string[] } {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Worked example:"), readme.indexOf("\n## ", readme.indexOf("## Worked example:") + 1));
  const bootstrapCommand = /^ {4}(npm run bootstrap -- (?:.*\\\n)*.*)$/m.exec(section)?.[1];
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  if (!bootstrapCommand || blocks.length === 0) throw new Error("README's worked example has no bootstrap command or no ```sh block");
  return { bootstrapCommand, blocks };
}

/** README's safety section's ```sh blocks, in order: pasted after the worked example's. */
function readmeSafetyBlocks(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf("## Safety policies:");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  if (start < 0 || blocks.length === 0) throw new Error("README has no safety section with ```sh blocks");
  return blocks;
}

/** Runs `command` with `input` on stdin, as text pasted into a terminal is read. */
function runWithInput(command: string, args: string[], input: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/**
 * Runs README's bootstrap command on a fresh database, starts the server on it, and pastes `blocks`
 * into `shell` in a fresh directory, as a reader following README would.
 */
async function pasteIntoBootstrappedInstall(shell: string, args: string[], blocks: string[]): Promise<CliResult> {
  const { bootstrapCommand } = readmeWorkedExample();
  const db = await freshDatabaseUrl();
  const dir = tempDir("masquerade-readme-");
  try {
    const boot = await runCommand("sh", ["-c", bootstrapCommand.replace("npm run bootstrap --", 'node "$0"'), cli], db.url, dir.path);
    expect(boot.code, boot.stderr).toBe(0);
    expect(statSync(join(dir.path, "bootstrap.json")).mode & 0o777).toBe(0o600);
    const t = await startTestApp({ databaseUrl: db.url });
    try {
      const env = { ...process.env, MASQUERADE_URL: t.baseUrl, HOME: dir.path };
      return await runWithInput(shell, args, blocks.join(""), { cwd: dir.path, env });
    } finally {
      await t.close();
    }
  } finally {
    dir.remove();
    await db.drop();
  }
}

describe("README's worked example, pasted into bash and zsh", () => {
  const tools = ["curl", "jq", "base64"].every((tool) => hostRuns(tool, ["--version"]));
  // Interactive shells (-i), as a terminal paste is read: an interactive zsh does not take `#` as a
  // comment, which is what broke the example before. No rc files (--norc, -f).
  const shells: Array<[string, string[]]> = [
    ["bash", ["--norc", "--noprofile", "-i"]],
    ["zsh", ["-f", "-i"]],
  ];
  const shellErrors = /command not found|parse error|syntax error|no such file|bad pattern|no matches found|unknown file attribute|event not found|bad substitution|unexpected/i;

  for (const [shell, args] of shells) {
    const available = tools && hostRuns(shell, ["-c", "true"]);
    it.skipIf(skipWithout(available))(`runs from bootstrap to the audit trail in ${shell} (needs ${shell}, curl, jq, base64)`, async () => {
      const pasted = await pasteIntoBootstrappedInstall(shell, args, readmeWorkedExample().blocks);
      expect(pasted.code, pasted.stderr).toBe(0);
      expect(pasted.stderr.split("\n").filter((line) => shellErrors.test(line))).toEqual([]);
      expect(pasted.stdout).toContain("IMPERSONATION_TOKEN_ALREADY_USED");
      expect(pasted.stdout).toContain("SESSION_REVOKED");

      const trail = JSON.parse(lastLine(pasted.stdout)) as {
        data: { auditEvents: { edges: Array<{ node: { action: string; status: string; errorCode: string | null; impersonatorEmail: string | null; user: { email: string } | null } }> } };
      };
      const events = trail.data.auditEvents.edges.map((edge) => edge.node).reverse();
      expect(events.map((event) => [event.action, event.status, event.errorCode])).toEqual([
        ["SetImpersonationPolicy", "SUCCESS", null],
        ["CreateImpersonationToken", "SUCCESS", null],
        ["AuthenticateImpersonationToken", "SUCCESS", null],
        ["AuthenticateImpersonationToken", "FAILURE", "IMPERSONATION_TOKEN_ALREADY_USED"],
        ["RevokeSession", "SUCCESS", null],
      ]);
      // Sam's key (picked out of step 2's response) made the token, for Jane (the user of step 2).
      for (const event of events.slice(1)) {
        expect(event.impersonatorEmail).toBe("sam@example.com");
        expect(event.user?.email).toBe("jane@customer.com");
      }
    }, 60_000);

    it.skipIf(skipWithout(available))(`runs the safety section after it in ${shell}: one policy call, request, approval, a read-only launch`, async () => {
      const pasted = await pasteIntoBootstrappedInstall(shell, args, [...readmeWorkedExample().blocks, ...readmeSafetyBlocks()]);
      expect(pasted.code, pasted.stderr).toBe(0);
      expect(pasted.stderr.split("\n").filter((line) => shellErrors.test(line))).toEqual([]);
      // No step failed: `pick` prints a failed step's errors on stderr.
      expect(pasted.stderr).not.toMatch(/"extensions"/);
      expect(pasted.stdout).toMatch(/"requireApproval":"PROTECTED_USERS"/);
      expect(pasted.stdout).toMatch(/"allowed":false,"requiresApproval":true,"reasonCode":"APPROVAL_REQUIRED"/);
      expect(pasted.stdout).toMatch(/"approveImpersonationRequest":\{"status":"APPROVED"/);
      const launched = JSON.parse(lastLine(pasted.stdout)) as { data: { authenticateImpersonationToken: { session: { id: string; mode: string } } } };
      expect(launched.data.authenticateImpersonationToken.session.mode).toBe("READ_ONLY");
    }, 60_000);

    it.skipIf(skipWithout(available))(`shows the errors a step gets in ${shell}, instead of passing null to the next step`, async () => {
      const { blocks } = readmeWorkedExample();
      const dir = tempDir("masquerade-readme-");
      const t = await startTestApp();
      try {
        const wrong = { adminMemberId: "member-x", adminApiKey: "mq_key_wrong", projectId: "project-x", projectSecret: "mq_secret_wrong", publicToken: "mq_public_wrong" };
        writeFileSync(join(dir.path, "bootstrap.json"), JSON.stringify(wrong));
        const env = { ...process.env, MASQUERADE_URL: t.baseUrl, HOME: dir.path };
        // The set-up, step 1 and step 2 (which picks SUPPORT_KEY out of a response), then the value.
        const input = `${blocks.slice(0, 3).join("")}printf 'SUPPORT_KEY=[%s]\\n' "$SUPPORT_KEY"\n`;
        const pasted = await runWithInput(shell, args, input, { cwd: dir.path, env });
        expect(pasted.stdout).toContain("SUPPORT_KEY=[]\n");
        expect(pasted.stderr).toMatch(/"code":"UNAUTHENTICATED"/);
      } finally {
        await t.close();
        dir.remove();
      }
    });
  }
});
