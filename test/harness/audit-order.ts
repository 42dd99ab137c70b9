import { AuditPageDocument, SlimAuditEventAddedDocument, type AuditPageQuery } from "../__generated__/graphql.js";
import { gqlOk, type Credential } from "./client.js";
import type { LiveSubscription } from "./ws-client.js";

/** What the ordering tests need of an event: its id (the order is checked against the log) and reason. */
export type OrderedEvent = { id: string; reason: string | null };

export { SlimAuditEventAddedDocument as slimAuditEventAdded };

/**
 * The project's events committed after the one with id `afterId`, oldest first: the log's own order
 * (`seq`), read through the auditEvents query (newest first, so read back to `afterId` and reversed).
 */
export async function loggedEventsAfter(url: string, credential: Credential, projectId: string, afterId: string): Promise<OrderedEvent[]> {
  const newestFirst: OrderedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page: AuditPageQuery["auditEvents"] = (await gqlOk(url, credential, AuditPageDocument, { projectId, after })).auditEvents;
    for (const { node } of page.edges) {
      if (node.id === afterId) return newestFirst.reverse();
      newestFirst.push(node);
    }
    if (!page.pageInfo.hasNextPage) throw new Error(`event ${afterId} is not in the log of ${projectId}`);
    after = page.pageInfo.endCursor;
  }
}

/** Everything `subscription` delivers until (and including) the event with reason `last`; fails after `timeoutMs`. */
export async function receivedUntil(subscription: LiveSubscription<{ auditEventAdded: OrderedEvent }>, last: string, timeoutMs = 20_000): Promise<OrderedEvent[]> {
  const received: OrderedEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    const result = await subscription.next(Math.max(left, 1)).catch(() => null);
    if (!result) throw new Error(`"${last}" did not arrive within ${timeoutMs} ms; received ${received.length} events before it`);
    if (result.errors?.length) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
    received.push(result.data!.auditEventAdded);
    if (result.data!.auditEventAdded.reason === last) return received;
  }
}

/**
 * Makes events with `makeEvent(reason)` until `subscription` delivers one (a subscription's start is
 * not acknowledged by the protocol); returns that event, and leaves nothing buffered before it.
 */
export async function untilLive(
  subscription: LiveSubscription<{ auditEventAdded: OrderedEvent }>,
  makeEvent: (reason: string) => Promise<unknown>,
  label: string,
  timeoutMs = 15_000,
): Promise<OrderedEvent> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const reason = `${label} warm-up ${attempt}`;
    await makeEvent(reason);
    for (;;) {
      const result = await subscription.next(300).catch(() => null);
      if (!result) break;
      if (result.errors?.length) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
      if (result.data!.auditEventAdded.reason === reason) return result.data!.auditEventAdded;
    }
  }
  throw new Error(`the subscription (${label}) did not start within ${timeoutMs} ms`);
}

/** Positions where `received` departs from `logged` (same events, same order expected), for a readable failure. */
export function orderReport(received: OrderedEvent[], logged: OrderedEvent[]): string {
  const position = new Map(logged.map((event, index) => [event.id, index]));
  const positions = received.map((event) => position.get(event.id) ?? -1);
  const swaps = positions.filter((value, index) => index > 0 && value < positions[index - 1]!).length;
  const missing = logged.filter((event) => !received.some((seen) => seen.id === event.id)).length;
  const unknown = positions.filter((value) => value === -1).length;
  const duplicates = received.length - new Set(received.map((event) => event.id)).size;
  return `${received.length} received, ${logged.length} in the log: ${swaps} out of order, ${missing} missing, ${duplicates} duplicated, ${unknown} not in the log`;
}
