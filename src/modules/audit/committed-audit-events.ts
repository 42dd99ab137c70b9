import type { Database } from "../../db/database.js";
import { auditEventRepository } from "./audit-event.repository.js";
import type { CommittedAuditEvents } from "./audit-event-sequencer.js";
import { toAuditEventMessage } from "./audit-message.js";

/**
 * The reads the live stream needs from the committed audit log: where a project's chain ends, and a
 * range of it by `seq` (the unique index on project and seq serves both).
 */
export function committedAuditEvents(db: Database): CommittedAuditEvents {
  return {
    lastSeq: (projectId) => auditEventRepository.lastSeq(db.sql, projectId),
    async range(projectId, fromSeq, toSeq, limit) {
      const events = await auditEventRepository.range(db.sql, projectId, fromSeq, toSeq, limit);
      return events.map(toAuditEventMessage);
    },
  };
}
