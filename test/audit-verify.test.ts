import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventsDocument, CreateImpersonationTokenDocument, CreateProjectDocument, VerifyAuditLogDocument } from "./__generated__/graphql.js";
import { anonymous, asMember, gql, gqlErrorCode, gqlOk } from "./harness/client.js";
import { createWorld, type World } from "./harness/fixtures.js";
import { startTestApp, type TestApp } from "./harness/test-app.js";
import type { SqlValue } from "../src/db/database.js";
import { databaseOf } from "../src/db/database-of.js";
import { AuditEvent } from "../src/modules/audit/audit-event.entity.js";
import { chainHash } from "../src/modules/audit/audit-hash.js";
import { auditEventRepository } from "../src/modules/audit/audit-event.repository.js";
import { AuditStatus } from "../src/modules/audit/audit-status.js";
import { verifyAuditChain } from "../src/modules/audit/audit-verify.service.js";
import { TeamMember } from "../src/modules/members/team-member.entity.js";

let t: TestApp;
let world: World;
let statements: string[] = [];
let counting = false;

beforeAll(async () => {
  t = await startTestApp({
    onQuery: (sql) => {
      if (counting) statements.push(sql);
    },
  });
  world = await createWorld(t);
});
afterAll(async () => t?.close());

/** Raw SQL straight at the database: what someone with database access could do. */
async function sql(statement: string, params: SqlValue[] = []): Promise<void> {
  await databaseOf(t.app.orm.em).sql.run(statement, params);
}

async function verify(projectId: string) {
  return (await gqlOk(t.url, world.viewer.credential, VerifyAuditLogDocument, { projectId })).verifyAuditLog;
}

/** A project of its own with `count` events (refused token attempts), and its events by seq (1-based). */
async function projectWithEvents(name: string, count: number) {
  const { project } = (await gqlOk(t.url, world.admin.credential, CreateProjectDocument, {
    input: { name, loginRedirectUrl: "https://verify.example.com/auth" },
  })).createProject;
  for (let i = 0; i < count; i++) {
    const code = await gqlErrorCode(t.url, world.viewer.credential, CreateImpersonationTokenDocument, {
      input: { projectId: project.id, userId: world.userId, reason: `${name} ${i + 1}` },
    });
    expect(code).toBe("FORBIDDEN");
  }
  const rows = await auditEventRepository.chainAfter(databaseOf(t.app.orm.em).sql, project.id, null, 1_000_000);
  expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  return { projectId: project.id, bySeq: (seq: number) => rows[seq - 1]! };
}

describe("verifyAuditLog", () => {
  it("finds an untouched log valid and counts every event", async () => {
    const events = (await gqlOk(t.url, world.admin.credential, AuditEventsDocument, { projectId: world.projectId, first: 500 })).auditEvents.edges;
    expect(events.length).toBeGreaterThan(0);
    expect(await verify(world.projectId)).toEqual({ valid: true, checkedCount: events.length, firstInvalidEventId: null });

    const { projectId } = await projectWithEvents("untouched", 6);
    expect(await verify(projectId)).toEqual({ valid: true, checkedCount: 6, firstInvalidEventId: null });

    const { project: empty } = (await gqlOk(t.url, world.admin.credential, CreateProjectDocument, {
      input: { name: "No events", loginRedirectUrl: "https://verify.example.com/auth" },
    })).createProject;
    expect(await verify(empty.id)).toEqual({ valid: true, checkedCount: 0, firstInvalidEventId: null });
  });

  it("detects an edited row, and only while it stays edited", async () => {
    const { projectId, bySeq } = await projectWithEvents("edited", 6);
    const target = bySeq(4);
    await sql("update audit_events set reason = ? where id = ?", ["nothing to see here", target.id]);
    expect(await verify(projectId)).toEqual({ valid: false, checkedCount: 4, firstInvalidEventId: target.id });

    await sql("update audit_events set reason = ? where id = ?", [target.reason, target.id]);
    expect(await verify(projectId)).toEqual({ valid: true, checkedCount: 6, firstInvalidEventId: null });

    // Any covered column: the status, the instant.
    await sql("update audit_events set status = ? where id = ?", [AuditStatus.SUCCESS, bySeq(2).id]);
    expect(await verify(projectId)).toMatchObject({ valid: false, firstInvalidEventId: bySeq(2).id });
    await sql("update audit_events set status = ? where id = ?", [AuditStatus.FAILURE, bySeq(2).id]);
    expect((await verify(projectId)).valid).toBe(true);
  });

  it("detects an edited row whose own hash was recomputed: the next event no longer chains to it", async () => {
    const { projectId, bySeq } = await projectWithEvents("rehashed", 5);
    const target = bySeq(2);
    const forged = Object.assign(new AuditEvent(), target, { reason: "forged reason" });
    const forgedHash = chainHash(target.prevHash, forged);
    await sql("update audit_events set reason = ?, hash = ? where id = ?", ["forged reason", forgedHash, target.id]);
    expect(await verify(projectId)).toEqual({ valid: false, checkedCount: 3, firstInvalidEventId: bySeq(3).id });
  });

  it("detects a deleted row: a gap in seq whose successor points at nothing", async () => {
    const { projectId, bySeq } = await projectWithEvents("deleted", 6);
    await sql("delete from audit_events where id = ?", [bySeq(3).id]);
    expect(await verify(projectId)).toEqual({ valid: false, checkedCount: 3, firstInvalidEventId: bySeq(4).id });

    const { projectId: second, bySeq: secondBySeq } = await projectWithEvents("first deleted", 3);
    await sql("delete from audit_events where id = ?", [secondBySeq(1).id]);
    expect(await verify(second)).toEqual({ valid: false, checkedCount: 1, firstInvalidEventId: secondBySeq(2).id });
  });

  it("detects a deleted row even when the rows after it were renumbered to close the gap", async () => {
    const { projectId, bySeq } = await projectWithEvents("renumbered", 5);
    await sql("delete from audit_events where id = ?", [bySeq(2).id]);
    for (const seq of [3, 4, 5]) await sql("update audit_events set seq = ? where id = ?", [seq - 1, bySeq(seq).id]);
    expect(await verify(projectId)).toEqual({ valid: false, checkedCount: 2, firstInvalidEventId: bySeq(3).id });
  });

  it("detects reordered rows (two seq values swapped)", async () => {
    const { projectId, bySeq } = await projectWithEvents("swapped", 6);
    const [a, b] = [bySeq(3), bySeq(4)];
    await sql("update audit_events set seq = ? where id = ?", [-1, a.id]);
    await sql("update audit_events set seq = ? where id = ?", [3, b.id]);
    await sql("update audit_events set seq = ? where id = ?", [4, a.id]);
    expect(await verify(projectId)).toEqual({ valid: false, checkedCount: 3, firstInvalidEventId: b.id });
  });

  it("detects a row slipped in below the first seq", async () => {
    const { projectId, bySeq } = await projectWithEvents("prepended", 3);
    await sql("update audit_events set seq = ? where id = ?", [0, bySeq(1).id]);
    expect(await verify(projectId)).toEqual({ valid: false, checkedCount: 1, firstInvalidEventId: bySeq(1).id });
  });

  it("streams a long log in batches of 1000 rows and still finds a change past the first batches", { timeout: 120_000 }, async () => {
    const { project } = (await gqlOk(t.url, world.admin.credential, CreateProjectDocument, {
      input: { name: "Long log", loginRedirectUrl: "https://verify.example.com/auth" },
    })).createProject;
    const em = t.app.orm.em.fork();
    const admin = await em.findOneOrFail(TeamMember, { id: world.admin.id });
    await databaseOf(t.app.orm.em).transaction(async (tx) => {
      for (let i = 0; i < 2050; i++) {
        await t.app.services.audit.append(
          tx,
          { actor: { kind: "member", member: admin }, requestId: "request-long-log", ipAddress: null, userAgent: null },
          { action: "RevokeSession", projectId: project.id, details: { i } },
          { status: AuditStatus.SUCCESS },
        );
      }
    });

    const measured = async () => {
      statements = [];
      counting = true;
      try {
        return await verify(project.id);
      } finally {
        counting = false;
      }
    };
    expect(await measured()).toEqual({ valid: true, checkedCount: 2050, firstInvalidEventId: null });
    expect(statements.filter((statement) => /audit_events/.test(statement))).toHaveLength(3);

    const [target] = await auditEventRepository.range(databaseOf(t.app.orm.em).sql, project.id, 2001, 2001, 2);
    if (!target) throw new Error("event 2001 not found");
    await sql("update audit_events set details = ? where id = ?", ['{"i":0}', target.id]);
    expect(await measured()).toEqual({ valid: false, checkedCount: 2001, firstInvalidEventId: target.id });

    // The same walk with small batches meets every batch boundary.
    const { projectId, bySeq } = await projectWithEvents("small batches", 7);
    expect(await verifyAuditChain(databaseOf(t.app.orm.em).sql, projectId, 3)).toEqual({ valid: true, checkedCount: 7, firstInvalidEventId: null });
    await sql("delete from audit_events where id = ?", [bySeq(4).id]);
    expect(await verifyAuditChain(databaseOf(t.app.orm.em).sql, projectId, 3)).toEqual({ valid: false, checkedCount: 4, firstInvalidEventId: bySeq(5).id });
  });

  it("is readable by every member role and the project's own backend, never by the frontend", async () => {
    for (const member of [world.admin, world.developer, world.supportManager, world.viewer]) {
      expect((await gqlOk(t.url, member.credential, VerifyAuditLogDocument, { projectId: world.projectId })).verifyAuditLog.valid).toBe(true);
    }
    expect((await gqlOk(t.url, world.backend, VerifyAuditLogDocument, { projectId: world.projectId })).verifyAuditLog.valid).toBe(true);
    const ours = { projectId: world.projectId };
    expect(await gqlErrorCode(t.url, world.other.backend, VerifyAuditLogDocument, ours)).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, world.frontend, VerifyAuditLogDocument, ours)).toBe("FORBIDDEN");
    expect(await gqlErrorCode(t.url, anonymous, VerifyAuditLogDocument, ours)).toBe("UNAUTHENTICATED");
    expect(await gqlErrorCode(t.url, asMember("mq_key_wrong"), VerifyAuditLogDocument, ours)).toBe("UNAUTHENTICATED");
    expect(await gqlErrorCode(t.url, world.admin.credential, VerifyAuditLogDocument, { projectId: "project-unknown" })).toBe("NOT_FOUND");
  });

  it("offers no operation that changes or removes an audit event", async () => {
    const result = await gql(t.url, world.admin.credential, `{ __schema { mutationType { fields { name } } } }`);
    const names: string[] = result.data.__schema.mutationType.fields.map((field: { name: string }) => field.name);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => /audit|event/i.test(name))).toEqual([]);
  });
});
