import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AuditEventSummariesDocument, CreateImpersonationTokenDocument, RevokeSessionDocument } from "./__generated__/graphql.js";
import { gql, gqlOk } from "./harness/client.js";
import { createWorld, startSession, type World } from "./harness/fixtures.js";
import { startTestApp, tempDir, type TestApp } from "./harness/test-app.js";

interface Line {
  id: string;
  projectId: string;
  seq: number;
  action: string;
  status: string;
  eventType: string | null;
  createdAt: string;
  prevHash: string;
  hash: string;
  [key: string]: unknown;
}

const dir = tempDir("masquerade-audit-stream-");
const file = join(dir.path, "audit.ndjson");

/** Whether this process holds the stream's file open (Linux /proc). */
function fileIsOpen(): boolean {
  return readdirSync("/proc/self/fd").some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  });
}

function readLines(): Line[] {
  const text = readFileSync(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as Line);
}

// Not useTestWorld: the last test restarts the app on the same stream file.
let t: TestApp;
let world: World;

beforeAll(async () => {
  t = await startTestApp({ env: { AUDIT_LOG_FILE: file } });
  world = await createWorld(t);
});
afterAll(async () => {
  await t?.close();
  dir.remove();
});

describe("the NDJSON audit stream", () => {
  it("has one line per committed event by the time the call answers, failures included", async () => {
    const session = await startSession(t, world);
    await gqlOk(t.url, world.backend, RevokeSessionDocument, { sessionId: session.session.id });
    const refused = await gql(t.url, world.viewer.credential, CreateImpersonationTokenDocument, { input: { projectId: world.projectId, userId: world.userId, reason: "no" } });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    // Synchronous appends: no waiting needed.
    const lines = readLines();
    for (const projectId of [world.projectId, world.other.projectId]) {
      const events = (await gqlOk(t.url, world.admin.credential, AuditEventSummariesDocument, { projectId, first: 500 })).auditEvents.edges.map(
        (e) => e.node,
      );
      const streamed = lines.filter((line) => line.projectId === projectId);
      expect(streamed.map((l) => l.id).sort()).toEqual(events.map((e: { id: string }) => e.id).sort());
    }
    const last = lines.slice(-4).map((l) => [l.action, l.status, l.eventType]);
    expect(last).toEqual([
      ["CreateImpersonationToken", "SUCCESS", "dashboard.impersonation_token.create"],
      ["AuthenticateImpersonationToken", "SUCCESS", "direct.user.impersonate"],
      ["RevokeSession", "SUCCESS", "direct.session.revoke"],
      ["CreateImpersonationToken", "FAILURE", null],
    ]);
    expect(lines[lines.length - 1]!.errorCode).toBe("FORBIDDEN");
  });

  it("carries every event field and the hash chain, in commit order per project", async () => {
    const lines = readLines().filter((line) => line.projectId === world.projectId);
    expect(Object.keys(lines[0]!).sort()).toEqual(
      [
        "id", "projectId", "seq", "action", "eventType", "status", "errorCode", "requestId", "userId", "impersonatorId", "impersonatorEmail",
        "reason", "sessionId", "mode", "impersonationRequestId", "ipAddress", "userAgent", "actorType", "actorId", "details", "createdAt", "prevHash", "hash",
      ].sort(),
    );
    lines.forEach((line, i) => {
      expect(line.seq).toBe(i + 1);
      if (i > 0) expect(line.prevHash).toBe(lines[i - 1]!.hash);
      expect(line.hash).toMatch(/^[0-9a-f]{64}$/);
    });
  });

  it("closes on shutdown and is appended to, never truncated, by the next start", async () => {
    const before = readFileSync(file, "utf8");
    const proc = existsSync("/proc/self/fd");
    if (proc) expect(fileIsOpen()).toBe(true);
    await t.close();
    if (proc) expect(fileIsOpen()).toBe(false);
    const closed = readFileSync(file, "utf8");
    expect(closed).toBe(before);

    t = await startTestApp({ env: { AUDIT_LOG_FILE: file } });
    world = await createWorld(t);
    const after = readFileSync(file, "utf8");
    expect(after.startsWith(before)).toBe(true);
    const added = after.slice(before.length).trim().split("\n").map((line) => JSON.parse(line) as Line);
    // The new world's audited calls: its three members (install-wide log), then its two policy
    // changes (the other project's, then the first's).
    expect(added.map((line) => [line.action, line.projectId])).toEqual([
      ["CreateTeamMember", ""],
      ["CreateTeamMember", ""],
      ["CreateTeamMember", ""],
      ["SetImpersonationPolicy", world.other.projectId],
      ["SetImpersonationPolicy", world.projectId],
    ]);
  });
});

describe("the NDJSON audit stream on stdout", () => {
  it("writes one JSON line per event to stdout with AUDIT_LOG_FILE=-", async () => {
    const written: string[] = [];
    // Captured (not echoed) while this app runs: the stream is what we are looking at.
    const spy = vi.spyOn(process.stdout, "write").mockImplementation(((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write);
    const app = await startTestApp({ env: { AUDIT_LOG_FILE: "-" } });
    try {
      const w = await createWorld(app);
      const lines = written
        .flatMap((chunk) => chunk.split("\n"))
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Line);
      const policyLines = lines.filter((line) => line.projectId === w.projectId);
      expect(policyLines.map((line) => line.action)).toEqual(["SetImpersonationPolicy"]);
      expect(written.filter((chunk) => chunk.includes(`"projectId":"${w.projectId}"`)).every((chunk) => chunk.endsWith("}\n"))).toBe(true);
    } finally {
      await app.close();
      spy.mockRestore();
    }
  });
});
