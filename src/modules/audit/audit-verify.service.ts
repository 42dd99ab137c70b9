import type { RequestContext } from "../../context.js";
import type { Database, Sql } from "../../db/database.js";
import type { ProjectService } from "../projects/project.service.js";
import { auditEventRepository } from "./audit-event.repository.js";
import { chainHash, genesisHash } from "./audit-hash.js";
import { auditChainFor } from "./audit-query.service.js";

export interface AuditChainVerification {
  valid: boolean;
  checkedCount: number;
  firstInvalidEventId: string | null;
}

/** Rows read per statement while verifying: memory stays flat however long the log is. */
export const verifyBatchSize = 1000;

/**
 * Walks one project's hash chain in `seq` order. Event n must have seq n (starting at 1), carry the
 * previous event's hash as its prevHash (the genesis hash for the first), and hash to its stored
 * hash. An edited row fails its own hash; a deleted row leaves a seq gap and a prevHash that points
 * at nothing; swapped seq values break both. Stops at the first event that fails.
 *
 * What a chain alone cannot show: the removal of the newest events (nothing after them points
 * back), or a rewrite of every event from some point on by someone who can recompute the hashes.
 */
export async function verifyAuditChain(sql: Sql, projectId: string, batchSize = verifyBatchSize): Promise<AuditChainVerification> {
  let expectedSeq = 1;
  let previousHash = genesisHash;
  let checkedCount = 0;
  let lastSeq: number | null = null;
  for (;;) {
    // Keyset on the stored seq, not on the expected one: a row with a seq below 1 must be seen too.
    const rows = await auditEventRepository.chainAfter(sql, projectId, lastSeq, batchSize);
    for (const row of rows) {
      checkedCount++;
      const seq: number = Number(row.seq);
      if (seq !== expectedSeq || row.prevHash !== previousHash || chainHash(previousHash, row) !== row.hash) {
        return { valid: false, checkedCount, firstInvalidEventId: row.id };
      }
      previousHash = row.hash;
      expectedSeq++;
      lastSeq = seq;
    }
    if (rows.length < batchSize) return { valid: true, checkedCount, firstInvalidEventId: null };
  }
}

/** Tamper evidence for the audit log (read-only: nothing in the API updates or deletes an event). */
export class AuditVerifyService {
  constructor(
    private readonly db: Database,
    private readonly projects: ProjectService,
    private readonly batchSize = verifyBatchSize,
  ) {}

  /** Verifies the chain of a project the caller may read (a backend only its own), or the install-wide one (ADMIN). */
  async verify(ctx: RequestContext, projectId: string | null | undefined): Promise<AuditChainVerification> {
    const chain = await auditChainFor(this.db, this.projects, ctx, projectId);
    return verifyAuditChain(this.db.sql, chain, this.batchSize);
  }
}
