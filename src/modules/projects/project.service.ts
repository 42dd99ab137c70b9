import type { Actor } from "../../auth/actor.js";
import { hashSecret, newId, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { Database, Sql, Tx } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { httpUrl, isPlausibleId, requiredText } from "../../graphql/validation.js";
import { defaultTokenTtlSeconds, Project } from "./project.entity.js";
import { projectRepository } from "./project.repository.js";

export interface NewProject {
  project: Project;
  secret: string;
  publicToken: string;
}

export const defaultLoginRedirectUrl = "http://localhost:3000/authenticate";

export class ProjectService {
  private readonly createdListeners: Array<(project: Project) => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly db: Database,
  ) {}

  /** Calls `listener` with each project this instance creates (the CORS origins learn of it at once). */
  onCreated(listener: (project: Project) => void): void {
    this.createdListeners.push(listener);
  }

  /** Every project's login redirect URL: the pages whose origins may call /graphql (SPEC §7). */
  loginRedirectUrls(): Promise<string[]> {
    return projectRepository.loginRedirectUrls(this.db.sql);
  }

  /**
   * Creates a project with a fresh backend secret and public token; both are returned once. In `tx`
   * when it is part of a larger transaction (bootstrap), else in one of its own; `onCreated`
   * listeners hear of it once that transaction has committed.
   */
  async create(input: { name: string; loginRedirectUrl: string }, tx?: Tx): Promise<NewProject> {
    if (!tx) return this.db.transaction((own) => this.create(input, own));
    const secret = randomSecret(SecretPrefix.projectSecret);
    const publicToken = randomSecret(SecretPrefix.publicToken);
    const project = detachedEntity(Project, {
      id: newId("project"),
      name: requiredText(input.name, "name", 200),
      loginRedirectUrl: httpUrl(input.loginRedirectUrl, "loginRedirectUrl").toString(),
      secretHash: hashSecret(secret),
      publicTokenHash: hashSecret(publicToken),
      // A new project may not be impersonated in until its policy says so.
      allowImpersonation: false,
      allowFrontendAuthentication: false,
      tokenTtlSeconds: defaultTokenTtlSeconds,
      createdAt: this.clock.now(),
    });
    await projectRepository.insert(tx.sql, project);
    tx.afterCommit(() => {
      for (const listener of this.createdListeners) listener(project);
    });
    return { project, secret, publicToken };
  }

  /**
   * Loads a project for a caller. A backend or frontend reaches only its own project (FORBIDDEN
   * otherwise, whether or not the other exists); a member gets NOT_FOUND for an unknown id.
   */
  requireForActor(sql: Sql, actor: Actor, projectId: string): Promise<Project> {
    return requireFor(actor, projectId, (id) => projectRepository.findById(sql, id));
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
