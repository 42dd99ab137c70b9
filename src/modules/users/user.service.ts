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
import type { AuditLog } from "../audit/audit-log.service.js";
import type { ProjectService } from "../projects/project.service.js";
import { updateUserDraft } from "./user.audit.js";
import { User } from "./user.entity.js";
import { userRepository } from "./user.repository.js";

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
   * project's log with the old and new `protected`. Only an ADMIN may set `protected`: anyone else
   * naming it is refused, and nothing changes.
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
      if (input.protected !== null && input.protected !== undefined && !mayProtect) {
        throw new AppError(ErrorCode.FORBIDDEN, "Only an ADMIN may change whether a user is protected.");
      }
      const name = input.name === null || input.name === undefined ? user.name : optionalText(input.name, "name", 200);
      const externalId = input.externalId === null || input.externalId === undefined ? user.externalId : externalIdOf(input.externalId);
      const isProtected = input.protected === null || input.protected === undefined ? user.protected : input.protected;
      draft.details = {
        old: { protected: user.protected },
        new: { protected: isProtected },
        changed: [name !== user.name && "name", externalId !== user.externalId && "externalId", isProtected !== user.protected && "protected"].filter(Boolean),
      };
      if (!(await userRepository.setDetails(tx.sql, user.id, { name, protected: isProtected, externalId }))) {
        throw new AppError(ErrorCode.BAD_USER_INPUT, "Another user of this project already has this externalId.");
      }
      user.name = name;
      user.externalId = externalId;
      user.protected = isProtected;
      return user;
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
