import { loggableMessage } from "../../errors/loggable-error.js";
import { logger } from "../../log/logger.js";
import { FixedBuffer, Repeater } from "@graphql-yoga/subscription";
import { SubscriberTooSlowError, subscriberBufferSize, type AppPubSub } from "../../pubsub/pubsub.js";
import { Topic, type AuditEventMessage } from "../../pubsub/topics.js";

/** The committed audit log, as the sequencer reads it to fill a gap. */
export interface CommittedAuditEvents {
  /** The highest `seq` committed in the project's chain (0 when it has none). */
  lastSeq(projectId: string): Promise<number>;
  /** The project's committed events with `fromSeq <= seq <= toSeq` (no upper bound when null), in `seq` order, at most `limit`. */
  range(projectId: string, fromSeq: number, toSeq: number | null, limit: number): Promise<AuditEventMessage[]>;
}

/**
 * How long an event waits for its predecessor's message before the predecessor is read from the
 * database (real time: this is about messages in flight). Messages between instances through Redis
 * take about a millisecond; commits of one instance return out of order by less than that.
 */
export const gapHoldMs = 250;

/** How long to wait before reading again when the database could not be read. */
const retryReadMs = 1000;

/** Events read from the database at a time when filling a gap or catching up. */
const readPageSize = 500;

type Listener = (message: AuditEventMessage) => void;

/** One project's live stream on this instance: exists while the project has subscribers here. */
interface ProjectStream {
  readonly projectId: string;
  readonly listeners: Set<Listener>;
  /** Until the starting point is known, every message is held. */
  starting: boolean;
  /** The `seq` to deliver next; null when the starting point could not be read (the first message sets it). */
  next: number | null;
  /** Messages that arrived before their predecessors, by `seq`. */
  readonly held: Map<number, AuditEventMessage>;
  gapTimer: NodeJS.Timeout | null;
  reading: boolean;
  /** A read asked for while one was running: up to this `seq`, or everything (null). */
  wanted: number | null | undefined;
}

/**
 * Puts each project's live audit events in commit order (`seq`) before they reach the subscribers of
 * this instance, with no gap.
 *
 * Each instance publishes an event when its own commit returns, so messages arrive out of `seq`
 * order: two instances committing at once, or one instance whose concurrent commits return in
 * another order than they committed. A message may also be lost (Redis pub/sub is at most once).
 * Here, per project with live subscribers on this instance, the next expected `seq` is kept; a
 * message whose predecessor has not arrived is held, for at most `gapHoldMs`, after which the
 * missing events are read from the database. That read is always complete: `seq` is allocated under
 * the project's chain lock inside the appending transaction, so a committed `seq` n + 1 means `seq` n
 * committed before it, and a rolled-back transaction leaves no hole (the next one takes its number).
 * Only committed events are ever published or read, and an event at or below the delivered `seq`
 * is dropped: none is delivered twice, none that rolled back.
 *
 * One sequencer per instance, in front of all subscribers: every subscriber of a project on this
 * instance sees the same order, and the per-event work is done once, not per subscriber. A stream
 * starts at the project's last committed `seq` when its first subscriber arrives; a subscriber that
 * joins a running stream starts with its next event.
 */
export class AuditEventSequencer {
  private readonly streams = new Map<string, ProjectStream>();
  private readonly stopListening: () => void;
  private closed = false;

  constructor(
    pubsub: AppPubSub,
    private readonly store: CommittedAuditEvents,
    private readonly log: (message: string) => void = (message) => logger.warn(message),
  ) {
    this.stopListening = pubsub.listen(Topic.AuditEventAdded, (message) => {
      const stream = this.streams.get(message.projectId);
      if (stream) this.accept(stream, message);
    });
    // Messages published while this instance (or a publishing one) was cut off from Redis: read them.
    pubsub.onMessagesMissed?.(() => {
      for (const stream of this.streams.values()) this.read(stream, null);
    });
  }

  /** The project's committed events, in `seq` order, from when the subscription starts listening. */
  subscribe(projectId: string): Repeater<AuditEventMessage> {
    // The executor runs on the first next(): a subscription that is never iterated never listens.
    return new Repeater<AuditEventMessage>((push, stop) => {
      if (this.closed) return stop();
      const stream = this.streams.get(projectId) ?? this.open(projectId);
      const listener: Listener = (message) => {
        try {
          void push(message);
        } catch {
          stop(new SubscriberTooSlowError());
        }
      };
      stream.listeners.add(listener);
      void stop.then(() => {
        stream.listeners.delete(listener);
        if (stream.listeners.size === 0 && this.streams.get(projectId) === stream) this.end(stream);
      });
    }, new FixedBuffer(subscriberBufferSize));
  }

  /** Subscribers currently receiving events (those whose stream has found its starting point). */
  listenerCount(): number {
    let count = 0;
    for (const stream of this.streams.values()) if (!stream.starting) count += stream.listeners.size;
    return count;
  }

  close(): void {
    this.closed = true;
    this.stopListening();
    for (const stream of [...this.streams.values()]) this.end(stream);
  }

  private open(projectId: string): ProjectStream {
    const stream: ProjectStream = { projectId, listeners: new Set(), starting: true, next: null, held: new Map(), gapTimer: null, reading: false, wanted: undefined };
    this.streams.set(projectId, stream);
    this.store.lastSeq(projectId).then(
      (last) => this.started(stream, last + 1),
      (error: unknown) => {
        this.log(`[masquerade] live audit events of a project: could not read where they start (${describe(error)}); starting at the next one`);
        this.started(stream, null);
      },
    );
    return stream;
  }

  private started(stream: ProjectStream, next: number | null): void {
    if (!this.isLive(stream)) return;
    stream.starting = false;
    logger.debug("live audit events: a project's stream is live");
    if (next === null && stream.held.size > 0) next = lowest(stream.held.keys());
    stream.next = next;
    for (const seq of stream.held.keys()) if (next !== null && seq < next) stream.held.delete(seq);
    this.drain(stream);
  }

  private end(stream: ProjectStream): void {
    if (stream.gapTimer) clearTimeout(stream.gapTimer);
    stream.gapTimer = null;
    stream.held.clear();
    if (this.streams.get(stream.projectId) === stream) this.streams.delete(stream.projectId);
  }

  private isLive(stream: ProjectStream): boolean {
    return this.streams.get(stream.projectId) === stream;
  }

  /** A message from the pub/sub or a row from the database: delivered, held, or dropped as already delivered. */
  private accept(stream: ProjectStream, message: AuditEventMessage): void {
    const seq = message.seq;
    if (stream.next === null && !stream.starting) stream.next = seq;
    if (stream.starting || seq > stream.next!) {
      stream.held.set(seq, message);
      if (!stream.starting && !stream.gapTimer) this.armGapTimer(stream);
      return;
    }
    if (seq < stream.next!) return;
    this.deliver(stream, message);
    stream.next = seq + 1;
    if (stream.held.size > 0) this.drain(stream);
  }

  /** Delivers the held messages that are next in line; waits for the rest. */
  private drain(stream: ProjectStream): void {
    let message: AuditEventMessage | undefined;
    while (stream.next !== null && (message = stream.held.get(stream.next)) !== undefined) {
      stream.held.delete(stream.next);
      this.deliver(stream, message);
      stream.next++;
    }
    if (stream.held.size === 0) {
      if (stream.gapTimer) clearTimeout(stream.gapTimer);
      stream.gapTimer = null;
    } else if (!stream.gapTimer) {
      this.armGapTimer(stream);
    }
  }

  private deliver(stream: ProjectStream, message: AuditEventMessage): void {
    for (const listener of stream.listeners) listener(message);
  }

  private armGapTimer(stream: ProjectStream): void {
    stream.gapTimer = setTimeout(() => {
      stream.gapTimer = null;
      if (stream.held.size > 0) this.read(stream, highest(stream.held.keys()));
    }, gapHoldMs);
    stream.gapTimer.unref();
  }

  /** Reads the project's committed events from `next` up to `upTo` (everything when null) and accepts them. */
  private read(stream: ProjectStream, upTo: number | null): void {
    if (stream.starting) return; // its starting point is read from the database already
    if (stream.reading) {
      stream.wanted = stream.wanted === null || upTo === null ? null : Math.max(stream.wanted ?? upTo, upTo);
      return;
    }
    stream.reading = true;
    void this.readPages(stream, upTo).finally(() => {
      stream.reading = false;
      const wanted = stream.wanted;
      stream.wanted = undefined;
      if (wanted !== undefined && this.isLive(stream)) this.read(stream, wanted);
    });
  }

  private async readPages(stream: ProjectStream, upTo: number | null): Promise<void> {
    try {
      for (;;) {
        if (!this.isLive(stream) || stream.next === null) return;
        const from = stream.next;
        if (upTo !== null && from > upTo) return;
        const rows = await this.store.range(stream.projectId, from, upTo, readPageSize);
        if (!this.isLive(stream)) return;
        for (const row of rows) this.accept(stream, row);
        if (rows.length === readPageSize) continue;
        // The whole range was read. A `seq` in it that the database does not have cannot come (see
        // above; only a row removed by hand does this): go on with the next event rather than wait.
        if (upTo !== null && stream.next !== null && stream.next <= upTo && stream.held.size > 0) {
          const resume = lowest(stream.held.keys());
          this.log(`[masquerade] live audit events: events ${stream.next}–${resume - 1} of a project are not in the database; continuing after them`);
          stream.next = resume;
          this.drain(stream);
        }
        return;
      }
    } catch (error) {
      this.log(`[masquerade] live audit events: could not read missing events from the database (${describe(error)}); retrying`);
      const retry = setTimeout(() => {
        if (this.isLive(stream)) this.read(stream, upTo === null ? null : Math.max(upTo, highest(stream.held.keys())));
      }, retryReadMs);
      retry.unref();
    }
  }
}

function lowest(seqs: Iterable<number>): number {
  let min = Infinity;
  for (const seq of seqs) if (seq < min) min = seq;
  return min;
}

function highest(seqs: Iterable<number>): number {
  let max = -Infinity;
  for (const seq of seqs) if (seq > max) max = seq;
  return max;
}

function describe(error: unknown): string {
  // Never the SQL of a failed statement: its values are written in.
  return error instanceof Error ? loggableMessage(error) : String(error);
}
