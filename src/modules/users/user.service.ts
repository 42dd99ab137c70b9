import { newId } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { email, isPlausibleId, optionalText } from "../../graphql/validation.js";
import type { ProjectService } from "../projects/project.service.js";
import { User } from "./user.entity.js";
import { userRepository } from "./user.repository.js";

export class UserService {
  constructor(
    private readonly clock: Clock,
    private readonly projects: ProjectService,
    private readonly db: Database,
  ) {}

  async create(ctx: RequestContext, input: { projectId: string; email: string; name?: string | null }): Promise<User> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, input.projectId);
    const user = detachedEntity(User, {
      id: newId("user"),
      projectId: project.id,
      email: email(input.email),
      name: optionalText(input.name, "name", 200),
      createdAt: this.clock.now(),
    });
    if (!(await userRepository.insertUnlessEmailTaken(this.db.sql, user))) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, "A user with this email already exists in this project.");
    }
    return user;
  }

  async get(ctx: RequestContext, projectId: string, id: string): Promise<User | null> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, projectId);
    if (!isPlausibleId(id)) return null;
    return userRepository.findInProject(this.db.sql, project.id, id);
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
