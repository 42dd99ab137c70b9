import { setMaxListeners } from "node:events";
import { FixedBuffer, Repeater, type PubSub } from "@graphql-yoga/subscription";
import type { TopicPayloads } from "./topics.js";

export type AppPubSub = PubSub<TopicPayloads> & {
  close?: () => Promise<void>;
  /**
   * How many subscriptions this instance is currently listening for, on one topic or on all. Lets
   * tests (and metrics) prove that a subscriber that went away left nothing behind.
   */
  listenerCount?: (topic?: string) => number;
  /**
   * Calls `listener` synchronously with each message of `topic`, in the order they arrive (from
   * Redis: in the order each instance published them); returns the way to stop. For work that must
   * be done before any subscriber sees a later message.
   */
  listen<K extends keyof TopicPayloads>(topic: K, listener: (payload: TopicPayloads[K][0]) => void): () => void;
  /**
   * Calls `listener` whenever messages may have been lost in transit: this instance listens again
   * after its connection to the broker was down, or an instance that could not publish for a while
   * (this one included) can again. Lets a listener read what it missed from the database. Never
   * called in-process, where nothing is lost.
   */
  onMessagesMissed?(listener: () => void): void;
  /** Whether the connections to the broker are up (Redis only; /readyz). */
  isConnected?(): boolean;
};

/**
 * How many published values one subscriber may fall behind by before it is cut off. Beyond this
 * buffer the repeater queues at most 1024 more pushes and then throws; that throw happens inside
 * the event target's dispatch, where an exception would be an uncaught error for the whole process
 * (graphql-yoga's own createPubSub has no buffer at all: a burst of 1025 events with one slow
 * subscriber crashed the server). Here the slow subscriber alone is ended, with an error.
 */
export const subscriberBufferSize = 10_000;

/** The part of EventTarget a pub/sub needs (an in-process EventTarget, or Redis's event target). */
export interface EventTargetLike {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  dispatchEvent(event: Event): boolean;
}

export class SubscriberTooSlowError extends Error {
  constructor() {
    super(`The subscriber fell more than ${subscriberBufferSize} events behind and was disconnected.`);
    this.name = "SubscriberTooSlowError";
  }
}

/**
 * A pub/sub over an event target, API-compatible with graphql-yoga's createPubSub (what type-graphql
 * expects), with a bounded per-subscriber buffer and a count of live listeners.
 */
export function createEventTargetPubSub(target: EventTargetLike, options: { bufferSize?: number } = {}): AppPubSub {
  const bufferSize = options.bufferSize ?? subscriberBufferSize;
  const listeners = new Map<string, number>();
  const adjust = (topic: string, delta: number) => {
    const next = (listeners.get(topic) ?? 0) + delta;
    if (next === 0) listeners.delete(topic);
    else listeners.set(topic, next);
  };

  const pubsub = {
    publish(routingKey: string, ...args: unknown[]): void {
      const payload = args[1] ?? args[0] ?? null;
      const topic = args[1] === undefined ? routingKey : `${routingKey}:${String(args[0])}`;
      target.dispatchEvent(new CustomEvent(topic, { detail: payload }));
    },

    subscribe(routingKey: string, id?: unknown): Repeater<unknown> {
      const topic = id === undefined ? routingKey : `${routingKey}:${String(id)}`;
      // The executor runs on the first next(): a subscription that is never iterated never listens.
      return new Repeater<unknown>((push, stop) => {
        const listener = (event: Event) => {
          try {
            void push((event as CustomEvent<unknown>).detail);
          } catch {
            stop(new SubscriberTooSlowError());
          }
        };
        target.addEventListener(topic, listener);
        adjust(topic, +1);
        void stop.then(() => {
          target.removeEventListener(topic, listener);
          adjust(topic, -1);
        });
      }, new FixedBuffer(bufferSize));
    },

    listen(topic: string, listener: (payload: unknown) => void): () => void {
      const onEvent = (event: Event) => listener((event as CustomEvent<unknown>).detail);
      target.addEventListener(topic, onEvent);
      return () => target.removeEventListener(topic, onEvent);
    },

    listenerCount(topic?: string): number {
      if (topic !== undefined) return listeners.get(topic) ?? 0;
      let total = 0;
      for (const count of listeners.values()) total += count;
      return total;
    },
  };
  return pubsub as unknown as AppPubSub;
}

/** In-process pub/sub: enough for one instance (REDIS_URL fans out across instances). */
export function createInProcessPubSub(): AppPubSub {
  const target = new EventTarget();
  // Every live subscription is a listener; thousands are expected, not a leak.
  setMaxListeners(0, target);
  return createEventTargetPubSub(target);
}
