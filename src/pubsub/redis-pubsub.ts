import { logger } from "../log/logger.js";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis } from "ioredis";
import { SettingError, redactUrl } from "../errors/setting-error.js";
import { createEventTargetPubSub, type AppPubSub, type EventTargetLike } from "./pubsub.js";

/**
 * Channels are namespaced so that Masquerade's topics ("AUDIT_EVENT_ADDED") cannot meet another
 * application's on a shared Redis. Redis pub/sub ignores the logical database number, so two
 * deployments that must not hear each other need two Redis servers, not two `/db` suffixes.
 */
export const redisChannelPrefix = "masquerade:";

/**
 * A notice every instance hears (the publisher too): "an instance could not publish for a while and
 * is back", so listeners read what they may have missed (`onMessagesMissed`).
 */
const messagesMissedTopic = "MESSAGES_MISSED";

export interface RedisPubSubOptions {
  log?: (message: string) => void;
  /** How long startup waits for Redis before giving up (ms). */
  connectTimeoutMs?: number;
}

/**
 * Pub/sub that fans out across instances through Redis: every instance publishes its committed
 * audit events to Redis, and every instance's subscribers hear every instance's events — each
 * exactly once, because a publish goes only to Redis (never also to the local listeners).
 *
 * Redis pub/sub is at-most-once: a subscriber's instance that is disconnected from Redis misses
 * what is published meanwhile. Publishes made while the publishing connection is down are queued by
 * ioredis for its 20 reconnection attempts (about ten seconds) and sent on reconnect; past that they
 * are dropped, and the log says how many. Either way, once the connection is back, `onMessagesMissed`
 * listeners are told (on every instance, when it was a publisher that dropped messages), so that
 * they read what was missed from the database. Channel subscriptions made while Redis is down wait
 * for it, however long: a subscription opened during an outage starts hearing events once Redis is
 * back.
 *
 * Startup fails fast when Redis cannot be reached, so a wrong REDIS_URL is not discovered by a
 * silent lack of events.
 */
export async function createRedisPubSub(redisUrl: string, options: RedisPubSubOptions = {}): Promise<AppPubSub> {
  const log = options.log ?? ((message: string) => logger.warn(message));
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const clientOptions = { lazyConnect: true, connectTimeout: connectTimeoutMs };
  const publishClient = new Redis(redisUrl, { ...clientOptions, connectionName: "masquerade-publish" });
  // A SUBSCRIBE that gave up would leave its channel unheard for good (nothing retries it; ioredis
  // re-subscribes after a reconnect only what had succeeded): let it wait for Redis instead.
  const subscribeClient = new Redis(redisUrl, { ...clientOptions, connectionName: "masquerade-subscribe", maxRetriesPerRequest: null });
  let lastError = "";
  // Until start-up has connected, a failure is reported once, by the SettingError below.
  let started = false;
  for (const [name, client] of [["publish", publishClient], ["subscribe", subscribeClient]] as const) {
    client.on("error", (error: Error) => {
      // ioredis reconnects by itself; log each distinct failure once rather than every retry.
      if (started && error.message !== lastError) log(`[masquerade] Redis ${name} connection: ${error.message}`);
      lastError = error.message;
    });
    client.on("ready", () => {
      if (lastError) log(`[masquerade] Redis ${name} connection is back`);
      lastError = "";
    });
  }

  try {
    // ioredis's connectTimeout ends at the TCP connection: a peer that accepts it and never answers
    // (not Redis, or a hung one) would keep connect() waiting for ever.
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
    });
    await Promise.race([Promise.all([publishClient.connect(), subscribeClient.connect()]), silence]).finally(() => clearTimeout(timer));
  } catch (error) {
    publishClient.disconnect();
    subscribeClient.disconnect();
    const reason = lastError || (error instanceof Error ? error.message : String(error));
    throw new SettingError("REDIS_URL", `${redactUrl(redisUrl)} cannot be reached: ${reason}`);
  }
  started = true;

  const missedListeners: Array<() => void> = [];
  const messagesMissed = () => {
    for (const listener of missedListeners) listener();
  };
  let eventTarget: EventTargetLike | null = null;
  const announceDropped = () => eventTarget?.dispatchEvent(new CustomEvent(messagesMissedTopic, { detail: null }));
  eventTarget = createRedisEventTarget({
    publishClient: guardedClient(publishClient, log, announceDropped),
    subscribeClient: guardedClient(subscribeClient, log),
  }) as EventTargetLike;
  eventTarget.addEventListener(messagesMissedTopic, messagesMissed);
  whenListeningAgain(subscribeClient, messagesMissed);
  // The same pub/sub as in-process (bounded per-subscriber buffer, listener counts), over Redis.
  const pubsub = createEventTargetPubSub(eventTarget);
  pubsub.onMessagesMissed = (listener) => void missedListeners.push(listener);
  // Both connections, "ready": connected and (the subscriber) subscribed again after a reconnect.
  pubsub.isConnected = () => publishClient.status === "ready" && subscribeClient.status === "ready";
  let closing: Promise<void> | null = null;
  pubsub.close = () =>
    (closing ??= (async () => {
      await Promise.all(
        [publishClient, subscribeClient].map(async (client) => {
          // QUIT waits for Redis (the subscriber's commands wait for it for good): only when it is there.
          if (client.status !== "ready") return client.disconnect();
          try {
            await client.quit();
          } catch {
            client.disconnect();
          }
        }),
      );
    })());
  return pubsub;
}

/**
 * What createRedisEventTarget calls on its clients, namespaced with `redisChannelPrefix`, and with
 * failures logged instead of thrown. The event target does not await `publish` / `subscribe`; an
 * unhandled rejection (a publish that gave up while Redis was down) would otherwise crash the
 * process.
 */
function guardedClient(client: Redis, log: (message: string) => void, onBackAfterDrops?: () => void): Redis {
  const guard = (what: string) => (error: unknown) => {
    log(`[masquerade] Redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 0;
  };
  const publishDropped = droppedPublishes(client, log, onBackAfterDrops);
  const adapter = {
    publish: (channel: string, message: string) => client.publish(redisChannelPrefix + channel, message).catch(publishDropped),
    subscribe: (channel: string) => client.subscribe(redisChannelPrefix + channel).catch(guard("subscribe")),
    unsubscribe: (channel: string) => client.unsubscribe(redisChannelPrefix + channel).catch(guard("unsubscribe")),
    on: (event: string, listener: (channel: string, message: string) => void) => {
      if (event !== "message") throw new Error(`unexpected Redis listener "${event}"`);
      client.on("message", (channel: string, message: string) => {
        if (channel.startsWith(redisChannelPrefix)) listener(channel.slice(redisChannelPrefix.length), message);
      });
      return adapter;
    },
  };
  // createRedisEventTarget uses exactly these four methods of its clients.
  return adapter as unknown as Redis;
}

/**
 * Counts publishes dropped during one Redis outage: the first is logged at once, the total when the
 * connection is back (one line each, however many events a busy instance committed meanwhile), and
 * then `onBackAfterDrops` runs.
 */
function droppedPublishes(client: Redis, log: (message: string) => void, onBackAfterDrops?: () => void): () => number {
  let dropped = 0;
  client.on("ready", () => {
    if (dropped > 0) {
      log(`[masquerade] ${dropped} live message(s) could not be published while Redis was unreachable; subscribers read the audit events among them from the database`);
      onBackAfterDrops?.();
    }
    dropped = 0;
  });
  return () => {
    if (dropped++ === 0) log("[masquerade] Redis unreachable: live audit events are not reaching other instances' subscribers until it is back");
    return 0;
  };
}

/**
 * Calls `fn` each time the subscribing connection is back after having been lost, once its channels
 * are subscribed again: ioredis re-sends SUBSCRIBE before it emits "ready", and a PING on the same
 * connection is answered only after them.
 */
function whenListeningAgain(client: Redis, fn: () => void): void {
  let wasReady = client.status === "ready";
  let lost = false;
  client.on("close", () => {
    if (wasReady) lost = true;
  });
  client.on("ready", () => {
    wasReady = true;
    if (!lost) return;
    lost = false;
    client.ping().then(fn, () => undefined);
  });
}
