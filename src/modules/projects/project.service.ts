import type { Actor } from "../../auth/actor.js";
import type { ActorRecheck } from "../../auth/actor-recheck.js";
import type { RequestContext } from "../../context.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import type { AuditLog } from "../audit/audit-log.service.js";
import { rotateProjectSecretDraft, rotatePublicTokenDraft, updateProjectDraft } from "./project.audit.js";
import { hashSecret, newId, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { Database, Sql, Tx } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { httpUrl, isPlausibleId, requiredText } from "../../graphql/validation.js";
import { newProjectPolicy, Project } from "./project.entity.js";
import { projectRepository } from "./project.repository.js";

export interface NewProject {
  project: Project;
  secret: string;
  publicToken: string;
}

export const defaultLoginRedirectUrl = "http://localhost:3000/authenticate";

export class ProjectService {
  private readonly createdListeners: Array<(project: Project) => void> = [];
  private readonly updatedListeners: Array<(project: Project) => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly recheck: ActorRecheck,
  ) {}

  /** Calls `listener` with each project this instance updates, after commit (the CORS origins learn of a new URL at once). */
  onUpdated(listener: (project: Project) => void): void {
    this.updatedListeners.push(listener);
  }

  /** Every project, oldest first (members of every role may list them). */
  async list(args: { first?: number | null; after?: string | null }): Promise<Connection<Project>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, ["number", "string"]) as [number, string] | null;
    const rows = await projectRepository.list(this.db.sql, { after: after ? [new Date(after[0]), after[1]] : null, limit: limit + 1 });
    return toConnection(rows, limit, (project) => encodeCursor([project.createdAt.getTime(), project.id]));
  }

  /** Changes a project's name or login redirect URL (absent fields stay), audited in its log. */
  async update(ctx: RequestContext, id: string, input: { name?: string | null; loginRedirectUrl?: string | null }): Promise<Project> {
    return this.audit.audited(ctx, updateProjectDraft(id), async (tx, draft) => {
      const project = await this.requireForActor(tx.sql, ctx.actor, id);
      const name = input.name === null || input.name === undefined ? project.name : requiredText(input.name, "name", 200);
      const loginRedirectUrl =
        input.loginRedirectUrl === null || input.loginRedirectUrl === undefined
          ? project.loginRedirectUrl
          : httpUrl(input.loginRedirectUrl, "loginRedirectUrl").toString();
      draft.details = {
        old: { name: project.name, loginRedirectUrl: project.loginRedirectUrl },
        new: { name, loginRedirectUrl },
      };
      await projectRepository.setDetails(tx.sql, project.id, { name, loginRedirectUrl });
      project.name = name;
      project.loginRedirectUrl = loginRedirectUrl;
      tx.afterCommit(() => {
        for (const listener of this.updatedListeners) listener(project);
      });
      return project;
    });
  }

  /**
   * Replaces the backend secret, returned once. The old one stops working when this commits: the
   * Basic credential is checked against the stored hash on every request, and live subscriptions of
   * the old secret end at their next event (ActorRecheck compares the hash they started with).
   */
  async rotateSecret(ctx: RequestContext, projectId: string): Promise<{ project: Project; secret: string }> {
    return this.audit.audited(ctx, rotateProjectSecretDraft(projectId), async (tx) => {
      const project = await this.requireForActor(tx.sql, ctx.actor, projectId);
      const secret = randomSecret(SecretPrefix.projectSecret);
      project.secretHash = hashSecret(secret);
      await projectRepository.setSecretHash(tx.sql, project.id, project.secretHash);
      tx.afterCommit(() => this.recheck.changed("project", project.id));
      return { project, secret };
    });
  }

  /** Replaces the frontend's public token, returned once; the old one stops working when this commits. */
  async rotatePublicToken(ctx: RequestContext, projectId: string): Promise<{ project: Project; publicToken: string }> {
    return this.audit.audited(ctx, rotatePublicTokenDraft(projectId), async (tx) => {
      const project = await this.requireForActor(tx.sql, ctx.actor, projectId);
      const publicToken = randomSecret(SecretPrefix.publicToken);
      project.publicTokenHash = hashSecret(publicToken);
      await projectRepository.setPublicTokenHash(tx.sql, project.id, project.publicTokenHash);
      tx.afterCommit(() => this.recheck.changed("project", project.id));
      return { project, publicToken };
    });
  }

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
      ...newProjectPolicy,
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
