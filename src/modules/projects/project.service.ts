import type { EntityManager } from "@mikro-orm/core";
import type { Actor } from "../../auth/actor.js";
import { hashSecret, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { Sql } from "../../db/database.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { httpUrl, isPlausibleId, requiredText } from "../../graphql/validation.js";
import { Project } from "./project.entity.js";

export interface NewProject {
  project: Project;
  secret: string;
  publicToken: string;
}

export const defaultLoginRedirectUrl = "http://localhost:3000/authenticate";

export class ProjectService {
  private readonly createdListeners: Array<(project: Project) => void> = [];

  constructor(private readonly clock: Clock) {}

  /** Calls `listener` with each project this instance creates (the CORS origins learn of it at once). */
  onCreated(listener: (project: Project) => void): void {
    this.createdListeners.push(listener);
  }

  /** Every project's login redirect URL: the pages whose origins may call /graphql (SPEC §7). */
  async loginRedirectUrls(sql: Sql): Promise<string[]> {
    const rows = await sql.all<{ login_redirect_url: string }>("select distinct login_redirect_url from projects");
    return rows.map((row) => row.login_redirect_url);
  }

  /** Creates a project with a fresh backend secret and public token; both are returned once. */
  async create(em: EntityManager, input: { name: string; loginRedirectUrl: string }): Promise<NewProject> {
    const project = new Project();
    project.name = requiredText(input.name, "name", 200);
    project.loginRedirectUrl = httpUrl(input.loginRedirectUrl, "loginRedirectUrl").toString();
    const secret = randomSecret(SecretPrefix.projectSecret);
    const publicToken = randomSecret(SecretPrefix.publicToken);
    project.secretHash = hashSecret(secret);
    project.publicTokenHash = hashSecret(publicToken);
    project.createdAt = this.clock.now();
    await em.insert(project);
    for (const listener of this.createdListeners) listener(project);
    return { project, secret, publicToken };
  }

  /**
   * Loads a project for a caller. A backend or frontend reaches only its own project (FORBIDDEN
   * otherwise, whether or not the other exists); a member gets NOT_FOUND for an unknown id.
   */
  /** @deprecated Use `requireForActor` with a `Sql`; goes with the last EntityManager use. */
  requireForActorOrm(em: EntityManager, actor: Actor, projectId: string): Promise<Project> {
    return requireFor(actor, projectId, (id) => em.findOne(Project, { id }));
  }

  /**
   * Loads a project for a caller. A backend or frontend reaches only its own project (FORBIDDEN
   * otherwise, whether or not the other exists); a member gets NOT_FOUND for an unknown id.
   */
  requireForActor(sql: Sql, actor: Actor, projectId: string): Promise<Project> {
    return requireFor(actor, projectId, (id) => sql.entity(Project, "select * from projects where id = ?", [id]));
  }
}

async function requireFor(actor: Actor, projectId: string, load: (id: string) => Promise<Project | null>): Promise<Project> {
  if (actor.kind === "backend" || actor.kind === "frontend") {
    if (actor.project.id !== projectId) throw new AppError(ErrorCode.FORBIDDEN, "This credential belongs to another project.");
    return actor.project;
  }
  const project = isPlausibleId(projectId) ? await load(projectId) : null;
  if (!project) throw new AppError(ErrorCode.NOT_FOUND, "Project not found.");
  return project;
}
