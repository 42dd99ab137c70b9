import type { AuditEventMessage } from "../../pubsub/topics.js";
import type { CommittedAuditEvents } from "./audit-event-sequencer.js";

/**
 * How far behind the project's newest event `auditEventAdded(afterSeq:)` may start (counted in the
 * project's events, whatever the filter). Further back, a client pages with `auditEvents` first:
 * a subscription is not the way to download the log.
 */
export const maxCatchUpEvents = 1000;

/** Events read from the database at a time while catching up. */
const readPageSize = 500;

/**
 * The project's committed events with `seq > afterSeq`, in `seq` order, then its live ones from
 * `live` (the sequencer's stream of the project, not yet started): none missed, none twice.
 *
 * The live listener is registered first (the first `next()` starts `live`), and only then is the
 * database read, so that every event is in the read or in the live stream, or both: an event at or
 * below the last one delivered is dropped. The live stream is gapless from where it starts, but it
 * may start after the read ended (the sequencer's starting point is read on its own connection):
 * a live event that leaves a hole after the last one delivered waits while the hole is read from
 * the database. That read is complete: a committed `seq` n + 1 means `seq` n committed before it.
 */
export function withCatchUp(
  live: AsyncIterator<AuditEventMessage>,
  store: CommittedAuditEvents,
  projectId: string,
  afterSeq: number,
): AsyncIterableIterator<AuditEventMessage> {
  let last = afterSeq;
  let started = false;
  let ended = false;
  /** The first live result, asked for before the database is read. */
  let pendingLive: Promise<IteratorResult<AuditEventMessage>> | null = null;
  let caughtUp = false;
  /** Events read from the database and not delivered yet. */
  let backlog: AuditEventMessage[] = [];
  /** A live event waiting for the hole before it to be read. */
  let held: AuditEventMessage | null = null;

  const done = (): IteratorResult<AuditEventMessage> => ({ value: undefined, done: true });
  const end = async (): Promise<IteratorResult<AuditEventMessage>> => {
    ended = true;
    backlog = [];
    held = null;
    await live.return?.();
    return done();
  };

  const step = async (): Promise<IteratorResult<AuditEventMessage>> => {
    if (!started) {
      started = true;
      pendingLive = live.next();
    }
    for (;;) {
      if (ended) return done();
      const read = backlog.shift();
      if (read) {
        if (read.seq <= last) continue;
        last = read.seq;
        return { value: read, done: false };
      }
      if (!caughtUp) {
        const rows = await store.range(projectId, last + 1, null, readPageSize);
        if (rows.length < readPageSize) caughtUp = true;
        backlog = rows;
        continue;
      }
      if (held) {
        if (held.seq > last + 1) {
          const rows = await store.range(projectId, last + 1, held.seq - 1, readPageSize);
          // None: the database does not have them (only a row removed by hand does this); go on.
          if (rows.length > 0) {
            backlog = rows;
            continue;
          }
        }
        const message: AuditEventMessage = held;
        held = null;
        if (message.seq <= last) continue;
        last = message.seq;
        return { value: message, done: false };
      }
      const result = await (pendingLive ?? live.next());
      pendingLive = null;
      if (result.done) return end();
      if (result.value.seq <= last) continue;
      held = result.value;
    }
  };

  const iterator: AsyncIterableIterator<AuditEventMessage> = {
    async next() {
      try {
        return await step();
      } catch (error) {
        await end();
        throw error;
      }
    },
    return: end,
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
