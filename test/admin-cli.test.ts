import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstallWideAuditEventsDocument, MeDocument, UpdateMemberDocument, VerifyInstallWideAuditLogDocument } from "./__generated__/graphql.js";
import { asMember, gqlErrorCode, gqlOk } from "./harness/client.js";
import { countRows, newMember } from "./harness/core-operations.js";
import { buildIntoTempDir } from "./harness/build.js";
import { freshDatabaseUrl, type FreshDatabase } from "./harness/databases.js";
import { createWorld, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "..");

/** SPEC §8: `npm run admin -- reset-key`, as real processes against a running server's database. */
let build: Awaited<ReturnType<typeof buildIntoTempDir>> | undefined;
let db: FreshDatabase;
let t: TestApp;
let world: World;

beforeAll(async () => {
  build = await buildIntoTempDir("masquerade-admin-build-", join("scripts", "admin.js"));
  db = await freshDatabaseUrl();
  t = await startTestApp({ databaseUrl: db.url });
  world = await createWorld(t);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await db?.drop();
  build?.remove();
});

async function adminCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("node", [build!.entry, ...args], { cwd: repoRoot, env: { ...process.env, DATABASE_URL: db.url }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

async function installWideEvents() {
  const data = await gqlOk(t.url, world.admin.credential, InstallWideAuditEventsDocument, { first: 500 });
  return data.auditEvents.edges.map((edge) => edge.node);
}

describe("npm run admin -- reset-key", () => {
  it("refuses an unknown email, a disabled ADMIN and a non-ADMIN: one line, non-zero exit, nothing changed", async () => {
    const disabled = await newMember(t, world, "ADMIN");
    await gqlOk(t.url, world.admin.credential, UpdateMemberDocument, { id: disabled.id, input: { disabled: true } });
    const keysBefore = await countRows(t, "member_api_keys");
    for (const email of ["nobody@example.com", disabled.email, world.developer.email, "not an email"]) {
      const result = await adminCli(["reset-key", "--email", email, "--json"]);
      expect(result.code, email).not.toBe(0);
      expect(result.stdout, email).toBe("");
      expect(result.stderr.trim().split("\n"), email).toHaveLength(1);
      expect(result.stderr, email).toMatch(/refused/);
    }
    expect(await countRows(t, "member_api_keys")).toBe(keysBefore);
    expect((await gqlOk(t.url, world.developer.credential, MeDocument, {})).me?.id).toBe(world.developer.id);
    expect((await gqlOk(t.url, world.admin.credential, MeDocument, {})).me?.id).toBe(world.admin.id);
  });

  it("gives an enabled ADMIN a new key, prints it as one JSON line; the old key stops working; audited as the CLI", async () => {
    const oldKey = world.admin.apiKey;
    const result = await adminCli(["reset-key", "--email", world.admin.email, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const printed = JSON.parse(lines[0]!) as { memberId: string; apiKey: string };
    expect(Object.keys(printed).sort()).toEqual(["apiKey", "memberId"]);
    expect(printed.memberId).toBe(world.admin.id);
    expect(printed.apiKey).not.toBe(oldKey);

    expect(await gqlErrorCode(t.url, asMember(oldKey), MeDocument, {})).toBe("UNAUTHENTICATED");
    const admin = asMember(printed.apiKey);
    expect((await gqlOk(t.url, admin, MeDocument, {})).me?.id).toBe(world.admin.id);
    world.admin = { ...world.admin, apiKey: printed.apiKey, credential: admin };

    const events = await installWideEvents();
    const cliEvents = events.filter((event) => event.actorType === "cli");
    expect(cliEvents.map((event) => [event.action, event.status, event.eventType, event.errorCode, event.actorId, event.projectId]).reverse()).toEqual([
      ["RotateTeamMemberApiKey", "FAILURE", null, "BAD_USER_INPUT", null, ""],
      ["RotateTeamMemberApiKey", "FAILURE", null, "BAD_USER_INPUT", null, ""],
      ["RotateTeamMemberApiKey", "FAILURE", null, "BAD_USER_INPUT", null, ""],
      ["RotateTeamMemberApiKey", "FAILURE", null, "BAD_USER_INPUT", null, ""],
      ["RotateTeamMemberApiKey", "SUCCESS", "dashboard.team_member.api_key_rotate", null, null, ""],
    ]);
    expect(JSON.parse(cliEvents[0]!.details!)).toEqual({ memberId: world.admin.id, credential: "apiKey" });
    const json = JSON.stringify(events);
    expect(json).not.toContain(printed.apiKey);
    expect(json).not.toContain(oldKey);
    expect((await gqlOk(t.url, admin, VerifyInstallWideAuditLogDocument, {})).verifyAuditLog).toEqual({
      valid: true,
      checkedCount: events.length,
      firstInvalidEventId: null,
    });
  });
});
