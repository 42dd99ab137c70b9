/**
 * Seeds a project's audit log up to a given size, in batches, one transaction per batch. Only for
 * seeding the benchmark's database; the query under test goes through the API.
 *
 *   --mode append  every event is appended by the real AuditLog.append (slow: a read of the chain's
 *                  head and an INSERT per event).
 *   --mode bulk    (default) events are built like AuditLog.append builds them, chained with the
 *                  service's own chainHash, and written with one multi-row INSERT per batch (column
 *                  names and date conversion from the ORM's metadata and platform).
 *
 * Either way the project's whole chain is then checked with the service's verifyAuditChain, and
 * the seeding fails if it does not verify.
 *
 *   DATABASE_URL=... node dist/bench/seed-audit.js --project <id> --member <id> --users <id,id,...> --total 100000
 *
 * Prints one JSON line: {"mode","existing","added","total","verified","seconds"}.
 */
import "reflect-metadata";
import type { EntityManager } from "@mikro-orm/core";
import { parseArgs } from "node:util";
import { newId } from "../src/auth/secrets.js";
import { systemClock } from "../src/clock.js";
import { createOrm } from "../src/db/orm.js";
import { databaseOf } from "../src/db/database-of.js";
import { inTransaction } from "../src/db/transaction.js";
import { AuditEvent } from "../src/modules/audit/audit-event.entity.js";
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

/** One multi-row INSERT for a batch of events (MikroORM's insertMany costs ~10× more per row). */
async function insertRows(em: EntityManager, events: AuditEvent[]): Promise<void> {
  const meta = em.getMetadata().find(AuditEvent.name)!;
  const props = meta.props.filter((prop) => prop.persist !== false && prop.fieldNames?.length === 1);
  const platform = em.getPlatform();
  const params: unknown[] = [];
  for (const event of events) {
    for (const prop of props) {
      const value = (event as unknown as Record<string, unknown>)[prop.name] ?? null;
      params.push(value instanceof Date ? platform.processDateProperty(value) : value);
    }
  }
  const columns = props.map((prop) => platform.quoteIdentifier(prop.fieldNames[0]!)).join(", ");
  const row = `(${props.map(() => "?").join(", ")})`;
  const sql = `insert into ${platform.quoteIdentifier(meta.tableName)} (${columns}) values ${events.map(() => row).join(", ")}`;
  await em.getConnection().execute(sql, params, "run", em.getTransactionContext());
}

const started = performance.now();
const orm = await createOrm({ databaseUrl, migrate: false });
try {
  // Seeding queues no webhooks and announces nothing: no endpoint, subscriber or stream is there yet.
  const audit = new AuditLog(systemClock, databaseOf(orm.em), {
    webhookOutbox: { record: async () => 0 },
    webhookWorker: { wake: () => undefined },
    subscribers: { publish: () => undefined },
    stream: null,
  });
  const em = orm.em.fork();
  const member = await em.findOneOrFail(TeamMember, { id: values.member });
  const counted = await em
    .getConnection()
    .execute<Array<{ n: number | string }>>("select count(*) as n from audit_events where project_id = ?", [projectId]);
  const existing = Number(counted[0]?.n ?? 0);
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
    await inTransaction(orm.em.fork(), async (tx) => {
      if (mode === "append") {
        for (let i = 0; i < n; i++) await audit.append(tx, callerFor(), draftFor(added + i), { status: AuditStatus.SUCCESS });
        return;
      }
      const head = await tx.em
        .getConnection()
        .execute<Array<{ seq: number; hash: string }>>(
          "select seq, hash from audit_events where project_id = ? order by seq desc limit 1",
          [projectId],
          "all",
          tx.em.getTransactionContext(),
        );
      let seq = head[0] ? Number(head[0].seq) : 0;
      let prevHash = head[0]?.hash ?? genesisHash;
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
      await insertRows(tx.em, events);
    });
    added += n;
  }
  const inserted = performance.now();
  const verification = await verifyAuditChain(orm.em.fork(), projectId);
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
