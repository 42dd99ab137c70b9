import type { Database } from "../db/database.js";
import { AppError } from "../errors/app-error.js";
import { ErrorCode } from "../errors/codes.js";
import { apiKeyRepository } from "../modules/members/api-key.repository.js";
import { teamMemberRepository } from "../modules/members/team-member.repository.js";
import { projectRepository } from "../modules/projects/project.repository.js";
import type { AppPubSub } from "../pubsub/pubsub.js";
import { Topic } from "../pubsub/topics.js";
import type { Actor } from "./actor.js";

/** How long a re-check is shared by all live subscriptions of one credential. */
export const recheckTtlMs = 1000;

/**
 * Re-checks the credential of a long-lived operation (a subscription) as it stands now: a member that
 * was disabled or deleted or whose API key was rotated, or a project whose secret changed, is no
 * longer authenticated. Each credential is cached apart (an old and a new key of one member too). Checks are
 * shared: a thousand subscriptions of one member cost one read per second, not one per event each.
 * A change takes effect at once on every instance (`changed`, carried by the pub/sub); a change
 * made behind the service's back (SQL by hand), within `recheckTtlMs`.
 */
export class ActorRecheck {
  private readonly cache = new Map<string, { at: number; result: Promise<Actor> }>();

  constructor(
    private readonly db: Database,
    private readonly pubsub: AppPubSub,
  ) {
    // Synchronously, in arrival order: an instance forgets the old standing before it hands a
    // subscriber any event committed after the change. Listens for the life of the process.
    pubsub.listen(Topic.CredentialChanged, (message) => this.invalidate(message.kind, message.id));
  }

  /**
   * A credential's standing changed (call after the change committed): forgets it here at once,
   * and on every other instance before that instance delivers any event committed after this call.
   */
  changed(kind: "member" | "project", id: string): void {
    this.invalidate(kind, id);
    this.pubsub.publish(Topic.CredentialChanged, { kind, id });
  }

  private invalidate(kind: "member" | "project", id: string): void {
    const prefix = `${kind}:${id}:`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }

  current(actor: Actor): Promise<Actor> {
    if (actor.kind !== "member" && actor.kind !== "backend") return Promise.resolve(actor);
    const key = actor.kind === "member" ? `member:${actor.member.id}:${actor.apiKeyHash ?? ""}` : `project:${actor.project.id}:${actor.project.secretHash}`;
    const cached = this.cache.get(key);
    // Wall-clock time: this is a cache lifetime, not a business rule.
    if (cached && Date.now() - cached.at < recheckTtlMs) return cached.result;
    const result = this.load(actor);
    this.cache.set(key, { at: Date.now(), result });
    result.catch(() => undefined);
    if (this.cache.size > 10_000) this.cache.clear();
    return result;
  }

  private async load(actor: Extract<Actor, { kind: "member" | "backend" }>): Promise<Actor> {
    if (actor.kind === "member") {
      const member = actor.apiKeyHash
        ? await apiKeyRepository.findMemberByKeyHash(this.db.sql, actor.apiKeyHash)
        : await teamMemberRepository.findById(this.db.sql, actor.member.id);
      if (!member || member.id !== actor.member.id || member.disabled) {
        throw new AppError(ErrorCode.UNAUTHENTICATED, "This credential is no longer valid.");
      }
      return { kind: "member", member, apiKeyHash: actor.apiKeyHash };
    }
    const project = await projectRepository.findById(this.db.sql, actor.project.id);
    if (!project || project.secretHash !== actor.project.secretHash) {
      throw new AppError(ErrorCode.UNAUTHENTICATED, "This credential is no longer valid.");
    }
    return { kind: "backend", project };
  }
}
