import { afterAll, describe, expect, it } from "vitest";
import { CreateImpersonationTokenDocument } from "./__generated__/graphql.js";
import { loggedEventsAfter, orderReport, receivedUntil, slimAuditEventAdded, untilLive } from "./harness/audit-order.js";
import { gql } from "./harness/client.js";
import { useTestWorld } from "./harness/test-world.js";
import { connectWs, type WsConnection } from "./harness/ws-client.js";

/**
 * auditEventAdded in the project's commit order (`seq`), with no gap, on one instance: concurrent
 * commits return (and used to be announced) in another order than they committed.
 */
const connections: WsConnection[] = [];

const { t, world } = useTestWorld();
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
});

/** createImpersonationToken: a SUCCESS event as the support manager, a FORBIDDEN refusal as the viewer. */
function createToken(reason: string, succeed: boolean) {
  const member = succeed ? world.supportManager : world.viewer;
  return gql(t.url, member.credential, CreateImpersonationTokenDocument, { input: { projectId: world.projectId, userId: world.userId, reason } });
}

describe("auditEventAdded under concurrent commits on one instance", () => {
  it("delivers every event to every subscriber in seq order, with no gap and none twice", { timeout: 90_000 }, async () => {
    const subscriptions = [world.admin.credential, world.backend].map((credential) => {
      const connection = connectWs(t.wsUrl, credential);
      connections.push(connection);
      return connection.subscribe(slimAuditEventAdded, { projectId: world.projectId });
    });
    let start = "";
    for (const [index, subscription] of subscriptions.entries()) {
      start = (await untilLive(subscription, (reason) => createToken(reason, false), `subscriber ${index}`)).id;
    }
    // Both subscribers hear the project from `start` (the second one's warm-up event) on.

    // Rounds of concurrent commits (successes and refusals). Swaps were rare (one or two in 500 on
    // PostgreSQL): enough of them that the old code failed every time.
    const rounds = 6;
    const perRound = 200;
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all(Array.from({ length: perRound }, (_, i) => createToken(`round ${round} call ${i}`, i % 2 === 0)));
      expect(results.map((result) => result.errors?.[0]?.extensions?.code ?? "OK")).toEqual(Array.from({ length: perRound }, (_, i) => (i % 2 === 0 ? "OK" : "FORBIDDEN")));
    }
    await createToken("end of the burst", false);

    const logged = await loggedEventsAfter(t.url, world.admin.credential, world.projectId, start);
    expect(logged).toHaveLength(rounds * perRound + 1);
    for (const subscription of subscriptions) {
      const received = await receivedUntil(subscription, "end of the burst");
      // The first subscriber may still hold the second's warm-up events: compare from `start` on.
      const fromStart = received.slice(received.findIndex((event) => event.id === start) + 1);
      expect(fromStart.map((event) => event.id), orderReport(fromStart, logged)).toEqual(logged.map((event) => event.id));
    }
  });
});
