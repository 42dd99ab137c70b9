import type DataLoader from "dataloader";
import type { Actor } from "./auth/actor.js";
import { resolveActor, type PresentedCredentials } from "./auth/credentials.js";
import { newId } from "./auth/secrets.js";
import type { Database } from "./db/database.js";
import type { TeamMember } from "./modules/members/team-member.entity.js";
import { createTeamMemberLoader } from "./modules/members/team-member.loader.js";
import type { User } from "./modules/users/user.entity.js";
import { createUserLoader } from "./modules/users/user.loader.js";

/**
 * The application's singletons, as each operation reaches them (`ctx.services`). Declared empty
 * here and given its members in services.ts, where they are built (TypeScript merges the two
 * declarations): every module imports this file, so this file imports no module's service.
 */
export interface Services {}

export interface Loaders {
  user: DataLoader<string, User | null>;
  member: DataLoader<string, TeamMember | null>;
}

/** Everything one GraphQL operation needs; made fresh for each HTTP request and each WS operation. */
export interface RequestContext {
  actor: Actor;
  requestId: string;
  ipAddress: string | null;
  userAgent: string | null;
  services: Services;
  loaders: Loaders;
}

export interface ContextInput {
  credentials: PresentedCredentials;
  ipAddress?: string | null;
  userAgent?: string | null;
  /** An actor already resolved (a WebSocket resolves it once at connect and re-checks it). */
  actor?: Actor;
  /** The id already sent back as `x-request-id` (HTTP); a new one otherwise. */
  requestId?: string;
}

export async function createRequestContext(db: Database, services: Services, input: ContextInput): Promise<RequestContext> {
  const actor = input.actor ?? (await resolveActor(db, input.credentials));
  return new OperationContext(db, services, actor, input);
}

/**
 * The loaders are made on first use: the hot paths (sessions, tokens) need none. The getter lives
 * on the prototype and its state in a plain property, because Apollo copies the context with
 * `Object.assign(Object.create(prototype), context)`.
 */
class OperationContext implements RequestContext {
  readonly requestId: string;
  readonly ipAddress: string | null;
  readonly userAgent: string | null;
  private batchLoaders: Loaders | undefined;

  constructor(
    private readonly db: Database,
    readonly services: Services,
    public actor: Actor,
    input: ContextInput,
  ) {
    this.requestId = input.requestId ?? newId("request");
    this.ipAddress = input.ipAddress ?? null;
    this.userAgent = input.userAgent ? input.userAgent.slice(0, 512) : null;
  }

  get loaders(): Loaders {
    return (this.batchLoaders ??= { user: createUserLoader(this.db), member: createTeamMemberLoader(this.db) });
  }

  set loaders(value: Loaders) {
    this.batchLoaders = value;
  }
}
