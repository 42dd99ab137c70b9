import type { Database } from "../../db/database.js";
import { AuditEvent } from "./audit-event.entity.js";
import type { CommittedAuditEvents } from "./audit-event-sequencer.js";
import { toAuditEventMessage } from "./audit-message.js";

/**
 * The reads the live stream needs from the committed audit log: where a project's chain ends, and a
 * range of it by `seq` (the unique index on project and seq serves both).
 */
export function committedAuditEvents(db: Database): CommittedAuditEvents {
  return {
    async lastSeq(projectId) {
      const row = await db.sql.one<{ seq: number | string | null }>("select max(seq) as seq from audit_events where project_id = ?", [projectId]);
      return Number(row?.seq ?? 0);
    },
    async range(projectId, fromSeq, toSeq, limit) {
      const events =
        toSeq === null
          ? await db.sql.entities(AuditEvent, "select * from audit_events where project_id = ? and seq >= ? order by seq limit ?", [projectId, fromSeq, limit])
          : await db.sql.entities(AuditEvent, "select * from audit_events where project_id = ? and seq >= ? and seq <= ? order by seq limit ?", [projectId, fromSeq, toSeq, limit]);
      return events.map(toAuditEventMessage);
    },
  };
}
