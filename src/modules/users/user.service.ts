import { decide, Permission } from "../../auth/permissions.js";
import { newId } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { email, isPlausibleId, optionalText, requiredText } from "../../graphql/validation.js";
import { callerOf, type AuditLog } from "../audit/audit-log.service.js";
import type { ProjectService } from "../projects/project.service.js";
import type { SessionService } from "../sessions/session.service.js";
import { updateUserDraft } from "./user.audit.js";
import { User } from "./user.entity.js";
import { userRepository, type UserChanges } from "./user.repository.js";

function protectedExternalId(): AppError {
  return new AppError(ErrorCode.FORBIDDEN, "Only an ADMIN may change the externalId of a protected user.");
}

/** The application's own id for a user: trimmed, 1–256 characters, no control characters. */
function externalIdOf(value: string): string {
  const trimmed = requiredText(value, "externalId", 256);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) throw new AppError(ErrorCode.BAD_USER_INPUT, '"externalId" must not contain control characters.');
  return trimmed;
}

export class UserService {
  constructor(
    private readonly clock: Clock,
    private readonly projects: ProjectService,
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly sessions: SessionService,
  ) {}

  async create(ctx: RequestContext, input: { projectId: string; email: string; name?: string | null; externalId?: string | null }): Promise<User> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, input.projectId);
    const user = detachedEntity(User, {
      id: newId("user"),
      projectId: project.id,
      email: email(input.email),
      name: optionalText(input.name, "name", 200),
      protected: false,
      externalId: input.externalId === null || input.externalId === undefined ? null : externalIdOf(input.externalId),
      createdAt: this.clock.now(),
    });
    if (!(await userRepository.insertUnlessTaken(this.db.sql, user))) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, "A user with this email or externalId already exists in this project.");
    }
    return user;
  }

  /**
   * Changes a user's name, external id or protected flag (absent fields stay), audited in its
   * project's log with the old and new `protected` and `externalId`. Only an ADMIN may set
   * `protected`. A protected user's `externalId` is changed only by an ADMIN or by the project's
   * backend (the application, whose own id it is; SPEC §9 lets the backend set it): a member who
   * moved a VIP's id onto an unprotected user would impersonate the VIP without approval. Anyone
   * else is refused with FORBIDDEN, and nothing changes. Protecting a user revokes its running
   * sessions that were not started from an approved request, in the same transaction.
   */
  async update(
    ctx: RequestContext,
    projectId: string,
    id: string,
    input: { name?: string | null; protected?: boolean | null; externalId?: string | null },
  ): Promise<User> {
    return this.audit.audited(ctx, updateUserDraft(projectId, id), async (tx, draft) => {
      const project = await this.projects.requireForActor(tx.sql, ctx.actor, projectId);
      const user = isPlausibleId(id) ? await userRepository.findInProject(tx.sql, project.id, id) : null;
      if (!user) throw new AppError(ErrorCode.NOT_FOUND, "User not found in this project.");
      const mayProtect = decide(ctx.actor, Permission.ProtectUsers) === "allow";
      const mayMoveProtectedExternalId = mayProtect || ctx.actor.kind === "backend";
      if (input.protected !== null && input.protected !== undefined && !mayProtect) {
        throw new AppError(ErrorCode.FORBIDDEN, "Only an ADMIN may change whether a user is protected.");
      }
      const changes: UserChanges = {};
      if (input.name !== null && input.name !== undefined) changes.name = optionalText(input.name, "name", 200);
      if (input.externalId !== null && input.externalId !== undefined) changes.externalId = externalIdOf(input.externalId);
      if (input.protected !== null && input.protected !== undefined) changes.protected = input.protected;
      const after = {
        name: changes.name === undefined ? user.name : changes.name,
        externalId: changes.externalId ?? user.externalId,
        protected: changes.protected ?? user.protected,
      };
      const movesExternalId = after.externalId !== user.externalId;
      // What was attempted is on the event either way: a refused attempt's FAILURE event shows it too.
      draft.details = {
        old: { protected: user.protected, externalId: user.externalId },
        new: { protected: after.protected, externalId: after.externalId },
        changed: [after.name !== user.name && "name", movesExternalId && "externalId", after.protected !== user.protected && "protected"].filter(Boolean),
      };
      if (movesExternalId && user.protected && !mayMoveProtectedExternalId) throw protectedExternalId();

      // The write decides, not the read above: for a member without ProtectUsers, a new external id
      // lands only on a user that is still unprotected (or already has it), so never on one an ADMIN
      // just protected.
      const outcome = await userRepository.update(tx.sql, user.id, changes, { externalIdOnlyIfUnprotected: !mayMoveProtectedExternalId });
      if (outcome === "externalIdTaken") throw new AppError(ErrorCode.BAD_USER_INPUT, "Another user of this project already has this externalId.");
      if (outcome === "notWritten") {
        const current = await userRepository.findInProject(tx.sql, project.id, user.id);
        throw current?.protected ? protectedExternalId() : new AppError(ErrorCode.NOT_FOUND, "User not found in this project.");
      }

      // Even when it was protected already: whatever runs without an approval stops now.
      if (changes.protected === true) {
        const revoked = await this.sessions.revokeActive(tx, callerOf(ctx), { projectId: project.id, userId: user.id, withoutApproval: true }, "user_protected");
        draft.details = { ...draft.details, revokedSessions: revoked };
      }
      return Object.assign(user, after);
    });
  }

  /** The user of a project with `id`, or with the application's `externalId`: exactly one of them. */
  async get(ctx: RequestContext, projectId: string, locator: { id?: string | null; externalId?: string | null }): Promise<User | null> {
    const hasId = locator.id !== null && locator.id !== undefined;
    const hasExternalId = locator.externalId !== null && locator.externalId !== undefined;
    if (hasId === hasExternalId) throw new AppError(ErrorCode.BAD_USER_INPUT, 'Give exactly one of "id" and "externalId".');
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, projectId);
    if (hasId) return isPlausibleId(locator.id!) ? userRepository.findInProject(this.db.sql, project.id, locator.id!) : null;
    return userRepository.findByExternalId(this.db.sql, project.id, externalIdOf(locator.externalId!));
  }

  /** Users of a project, oldest first; `search` matches email or name, case-insensitively. */
  async list(ctx: RequestContext, args: { projectId: string; search?: string | null; first?: number | null; after?: string | null }): Promise<Connection<User>> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, args.projectId);
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, ["number", "string"]) as [number, string] | null;
    const search = optionalText(args.search, "search", 200);
    const rows = await userRepository.list(this.db.sql, {
      projectId: project.id,
      search: search ? search.toLowerCase() : null,
      after: after ? [new Date(after[0]), after[1]] : null,
      limit: limit + 1,
    });
    return toConnection(rows, limit, (user) => encodeCursor([user.createdAt.getTime(), user.id]));
  }
}
