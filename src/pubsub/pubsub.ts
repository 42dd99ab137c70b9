import { createPubSub, type PubSub } from "@graphql-yoga/subscription";
import type { TopicPayloads } from "./topics.js";

export type AppPubSub = PubSub<TopicPayloads> & { close?: () => Promise<void> };

/** In-process pub/sub: enough for one instance (REDIS_URL fans out across instances). */
export function createInProcessPubSub(): AppPubSub {
  return createPubSub<TopicPayloads>();
}
