/**
 * Seeds a project's audit log up to a given size, in batches, one transaction per batch. Only for
 * seeding the benchmark's database; the query under test goes through the API.
 *
 *   --mode append  every event is appended by the real AuditLog.append (slow: a read of the chain's
 *                  head and an INSERT per event).
 *   --mode bulk    (default) events are built like AuditLog.append builds them, chained with the
 *                  service's own chainHash, and written with one multi-row INSERT per batch (column
 *                  names from the ORM's metadata; dates converted by the Sql layer).
 *
 * Either way the project's whole chain is then checked with the service's verifyAuditChain, and
 * the seeding fails if it does not verify.
 *
 *   DATABASE_URL=... node dist/bench/seed-audit.js --project <id> --member <id> --users <id,id,...> --total 100000
 *
 * Prints one JSON line: {"mode","existing","added","total","verified","seconds"}.
 */
import "reflect-metadata";
import type { MikroORM } from "@mikro-orm/core";
import { parseArgs } from "node:util";
import { newId } from "../src/auth/secrets.js";
import { systemClock } from "../src/clock.js";
import { createOrm } from "../src/db/orm.js";
import type { Sql } from "../src/db/database.js";
import { databaseOf } from "../src/db/database-of.js";
import { AuditEvent } from "../src/modules/audit/audit-event.entity.js";
import { auditEventRepository } from "../src/modules/audit/audit-event.repository.js";
import { chainHash, genesisHash } from "../src/modules/audit/audit-hash.js";
import { AuditLog, type AuditCaller, type AuditDraft } from "../src/modules/audit/audit-log.service.js";
import { AuditAction, AuditStatus, eventTypeFor } from "../src/modules/audit/audit-status.js";
import { verifyAuditChain } from "../src/modules/audit/audit-verify.service.js";
import { TeamMember } from "../src/modules/members/team-member.entity.js";

const { values } = parseArgs({
  options: {
    project: { type: "string" },
    member: { type: "string" },
    users: { type: "string" },
    total: { type: "string" },
    batch: { type: "string", default: "1000" },
    mode: { type: "string", default: "bulk" },
  },
  strict: true,
});
if (!values.project || !values.member || !values.users || !values.total) {
  throw new Error("usage: seed-audit --project <id> --member <id> --users <id,...> --total <n>");
}
const projectId = values.project;
const userIds = values.users.split(",").filter(Boolean);
const total = Number(values.total);
const batchSize = Number(values.batch);
const mode = values.mode;
if (mode !== "bulk" && mode !== "append") throw new Error(`--mode must be bulk or append, got ${mode}`);
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("DATABASE_URL is required");

/**
 * One multi-row INSERT for a batch of events (a statement per row costs a round trip each on
 * PostgreSQL). Seeding only: the application appends through auditEventRepository.
 */
async function insertRows(orm: MikroORM, sql: Sql, events: AuditEvent[]): Promise<void> {
  const meta = orm.getMetadata().find(AuditEvent.name)!;
  const props = meta.props.filter((prop) => prop.persist !== false && prop.fieldNames?.length === 1);
  const params: Array<string | number | Date | null> = [];
  for (const event of events) {
    for (const prop of props) params.push(((event as unknown as Record<string, unknown>)[prop.name] ?? null) as string | number | Date | null);
  }
  const columns = props.map((prop) => prop.fieldNames[0]!).join(", ");
  const row = `(${props.map(() => "?").join(", ")})`;
  await sql.run(`insert into ${meta.tableName} (${columns}) values ${events.map(() => row).join(", ")}`, params);
}

const started = performance.now();
const orm = await createOrm({ databaseUrl, migrate: false });
try {
  // Seeding queues no webhooks and announces nothing: no endpoint, subscriber or stream is there yet.
  const db = databaseOf(orm.em);
  const audit = new AuditLog(systemClock, db, {
    webhookOutbox: { record: async () => 0 },
    webhookWorker: { wake: () => undefined },
    subscribers: { publish: () => undefined },
    stream: null,
  });
  const em = orm.em.fork();
  const member = await em.findOneOrFail(TeamMember, { id: values.member });
  // A chain that verifies holds exactly its last seq's number of events.
  const existing = await auditEventRepository.lastSeq(db.sql, projectId);
  let added = 0;
  const actions = [AuditAction.CreateImpersonationToken, AuditAction.AuthenticateImpersonationToken] as const;
  const draftFor = (k: number): AuditDraft => ({
    action: actions[k % 2]!,
    projectId,
    userId: userIds[k % userIds.length]!,
    impersonatorId: member.id,
    impersonatorEmail: member.email,
    reason: `benchmark seed event ${k}`,
  });
  const callerFor = (): AuditCaller => ({
    actor: { kind: "member", member },
    requestId: newId("request"),
    ipAddress: "127.0.0.1",
    userAgent: "masquerade-bench/seed",
  });
  while (existing + added < total) {
    const n = Math.min(batchSize, total - existing - added);
    await db.transaction(async (tx) => {
      if (mode === "append") {
        for (let i = 0; i < n; i++) await audit.append(tx, callerFor(), draftFor(added + i), { status: AuditStatus.SUCCESS });
        return;
      }
      const head = await auditEventRepository.lastOfChain(tx.sql, projectId);
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? genesisHash;
      const events: AuditEvent[] = [];
      for (let i = 0; i < n; i++) {
        const draft = draftFor(added + i);
        const caller = callerFor();
        // A plain object with the entity's fields (an entity instance costs MikroORM's accessors).
        const event = {
          id: newId("event"),
          projectId,
          action: draft.action,
          status: AuditStatus.SUCCESS,
          eventType: eventTypeFor(draft.action),
          errorCode: null,
          requestId: caller.requestId,
          userId: draft.userId,
          impersonatorId: draft.impersonatorId,
          impersonatorEmail: draft.impersonatorEmail,
          reason: draft.reason,
          sessionId: null,
          ipAddress: caller.ipAddress,
          userAgent: caller.userAgent,
          actorType: "member",
          actorId: member.id,
          details: null,
          createdAt: systemClock.now(),
          seq: 0,
          prevHash: "",
          hash: "",
        } as unknown as AuditEvent;
        event.seq = ++seq;
        event.prevHash = prevHash;
        event.hash = chainHash(prevHash, event);
        prevHash = event.hash;
        events.push(event);
      }
      await insertRows(orm, tx.sql, events);
    });
    added += n;
  }
  const inserted = performance.now();
  const verification = await verifyAuditChain(db.sql, projectId);
  if (!verification.valid || verification.checkedCount !== existing + added) {
    throw new Error(`the seeded audit chain does not verify: ${JSON.stringify(verification)}`);
  }
  const seconds = (performance.now() - started) / 1000;
    const r1 = (n: number) => Math.round(n * 10) / 10;
  console.log(
    JSON.stringify({
      mode,
      existing,
      added,
      total: existing + added,
      verified: verification.checkedCount,
      seconds: r1(seconds),
      verifySeconds: r1((performance.now() - inserted) / 1000),
    }),
  );
} finally {
  await orm.close(true);
}
