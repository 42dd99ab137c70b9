import type { SqlEntityManager } from "@mikro-orm/knex";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import { inTransaction } from "../../db/transaction.js";
import { AppError } from "../../errors/app-error.js";
import { rethrowUniqueAs } from "../../db/unique-violation.js";
import { ErrorCode } from "../../errors/codes.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { email, isPlausibleId, optionalText } from "../../graphql/validation.js";
import type { ProjectService } from "../projects/project.service.js";
import { User } from "./user.entity.js";

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class UserService {
  constructor(
    private readonly clock: Clock,
    private readonly projects: ProjectService,
  ) {}

  async create(ctx: RequestContext, input: { projectId: string; email: string; name?: string | null }): Promise<User> {
    const project = await this.projects.requireForActorOrm(ctx.em, ctx.actor, input.projectId);
    const user = new User();
    user.projectId = project.id;
    user.email = email(input.email);
    user.name = optionalText(input.name, "name", 200);
    user.createdAt = this.clock.now();
    const duplicate = () => new AppError(ErrorCode.BAD_USER_INPUT, "A user with this email already exists in this project.");
    await inTransaction(ctx.em, async (tx) => {
      if (await tx.em.count(User, { projectId: project.id, email: user.email })) throw duplicate();
      // A concurrent creation of the same email can pass the count; the unique index decides.
      await tx.em.insert(user).catch(rethrowUniqueAs(duplicate));
    });
    return user;
  }

  async get(ctx: RequestContext, projectId: string, id: string): Promise<User | null> {
    const project = await this.projects.requireForActorOrm(ctx.em, ctx.actor, projectId);
    if (!isPlausibleId(id)) return null;
    return ctx.em.findOne(User, { id, projectId: project.id });
  }

  /** Users of a project, oldest first; `search` matches email or name, case-insensitively. */
  async list(ctx: RequestContext, args: { projectId: string; search?: string | null; first?: number | null; after?: string | null }): Promise<Connection<User>> {
    const project = await this.projects.requireForActorOrm(ctx.em, ctx.actor, args.projectId);
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, ["number", "string"]);
    const qb = (ctx.em as SqlEntityManager)
      .createQueryBuilder(User, "u")
      .where({ projectId: project.id })
      .orderBy({ createdAt: "asc", id: "asc" })
      .limit(limit + 1);
    const search = optionalText(args.search, "search", 200);
    if (search) {
      const pattern = `%${escapeLike(search.toLowerCase())}%`;
      qb.andWhere("(lower(u.email) like ? escape '\\' or lower(u.name) like ? escape '\\')", [pattern, pattern]);
    }
    if (after) {
      const [createdAt, id] = after as [number, string];
      qb.andWhere({ $or: [{ createdAt: { $gt: new Date(createdAt) } }, { createdAt: new Date(createdAt), id: { $gt: id } }] });
    }
    const rows = await qb.getResultList();
    return toConnection(rows, limit, (user) => encodeCursor([user.createdAt.getTime(), user.id]));
  }
}
