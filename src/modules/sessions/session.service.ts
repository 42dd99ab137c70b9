import type { EntityManager } from "@mikro-orm/core";
import { hashSecret, newId, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import { detachedEntity } from "../../db/detached-entity.js";
import type { SessionJwt, SessionJwtClaims } from "../../auth/session-jwt.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database, Sql, Tx } from "../../db/database.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { isPlausibleId } from "../../graphql/validation.js";
import { AuditAction } from "../audit/audit-status.js";
import type { AuditCaller, AuditDraft, AuditLog } from "../audit/audit-log.service.js";
import { AuditStatus } from "../audit/audit-status.js";
import { sessionDurationMinutes } from "../policy/policy.types.js";
import type { ProjectService } from "../projects/project.service.js";
import type { ImpersonationToken } from "../tokens/impersonation-token.entity.js";
import { User } from "../users/user.entity.js";
import { Session } from "./session.entity.js";

const maxCredentialLength = 4096;

export interface SessionLocator {
  sessionId?: string | null;
  sessionToken?: string | null;
  sessionJwt?: string | null;
}

interface LocatedSession {
  session: Session;
  /** The session's user; null if it no longer exists. */
  user: User | null;
}

export interface AuthenticatedSession {
  session: Session;
  user: User;
  sessionJwt: string;
}

export class SessionService {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly projects: ProjectService,
    private readonly jwt: SessionJwt,
    private readonly db: Database,
  ) {}

  /** Starts the one-hour session a token was exchanged for. */
  async start(sql: Sql, token: ImpersonationToken, now: Date): Promise<{ session: Session; sessionToken: string }> {
    const sessionToken = randomSecret(SecretPrefix.sessionToken);
    const session = detachedEntity(Session, {
      id: newId("session"),
      projectId: token.projectId,
      userId: token.userId,
      impersonatorId: token.impersonatorId,
      impersonatorEmail: token.impersonatorEmail,
      tokenHash: hashSecret(sessionToken),
      impersonationTokenId: token.id,
      startedAt: now,
      lastAccessedAt: now,
      expiresAt: new Date(now.getTime() + sessionDurationMinutes * 60_000),
      revokedAt: null,
    });
    await sql.insert(Session, session);
    return { session, sessionToken };
  }

  /**
   * Checks a session by its token or JWT and returns it with a fresh JWT. The session's expiry never
   * moves: an impersonated session cannot be extended.
   */
  async authenticate(ctx: RequestContext, args: SessionLocator & { sessionDurationMinutes?: number | null }): Promise<AuthenticatedSession> {
    if (args.sessionDurationMinutes !== null && args.sessionDurationMinutes !== undefined) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, "Impersonated sessions cannot be extended.");
    }
    if (args.sessionId) throw new AppError(ErrorCode.BAD_USER_INPUT, "Authenticate with sessionToken or sessionJwt.");
    const claims = await this.verifiedClaims(args);
    const { session, user } = await this.locate(this.db.sql, ctx, args, claims, "sessionToken or sessionJwt");
    const now = this.clock.now();
    this.assertActive(session, now);
    if (!user) throw new AppError(ErrorCode.SESSION_NOT_FOUND);
    await this.db.sql.run("update sessions set last_accessed_at = ? where id = ?", [now, session.id]);
    session.lastAccessedAt = now;
    return { session, user, sessionJwt: this.sign(session) };
  }

  /**
   * Revokes a session. Revoking an already revoked session succeeds and changes nothing; its audit
   * event records the no-op. The frontend may revoke only with the session's own token or JWT.
   */
  async revoke(ctx: RequestContext, args: SessionLocator): Promise<Session> {
    const draft = { action: AuditAction.RevokeSession, projectId: ctx.actor.kind === "member" ? null : actorProject(ctx) };
    // Verified before the transaction opens: an unknown kid may reload keys, which must not wait on
    // the connection the transaction holds (SQLite has one).
    const claims = await this.verifiedClaims(args);
    return this.audit.run(ctx, draft, async (tx, draft) => {
      if (ctx.actor.kind === "frontend" && args.sessionId) {
        throw new AppError(ErrorCode.FORBIDDEN, "The frontend may revoke a session only with its sessionToken or sessionJwt.");
      }
      const { session } = await this.locate(tx.sql, ctx, args, claims);
      Object.assign(draft, {
        projectId: session.projectId,
        userId: session.userId,
        impersonatorId: session.impersonatorId,
        impersonatorEmail: session.impersonatorEmail,
        sessionId: session.id,
      });
      await this.audit.lockChain(tx.sql, session.projectId);
      const now = this.clock.now();
      // The conditional update decides: of many concurrent revocations exactly one changes the row.
      if (session.revokedAt) return this.revokedAlready(draft, session);
      const changed = await tx.em.nativeUpdate(Session, { id: session.id, revokedAt: null }, { revokedAt: now });
      // Lost the race to a concurrent revocation: report the time it recorded.
      if (changed === 0) return this.revokedAlready(draft, await tx.em.findOneOrFail(Session, { id: session.id }, { refresh: true }));
      return detached(session, now);
    });
  }

  /**
   * Revokes every active session matching `filter` inside `tx`, one SUCCESS RevokeSession event
   * each (the kill switches: policy off, member disabled or demoted). Returns how many.
   */
  async revokeActive(tx: Tx, caller: AuditCaller, filter: { projectId: string } | { impersonatorId: string }, cause: string): Promise<number> {
    const now = this.clock.now();
    const [column, value] = "projectId" in filter ? ["project_id", filter.projectId] : ["impersonator_id", filter.impersonatorId];
    const active = await tx.sql.entities(Session, `select * from sessions where ${column} = ? and revoked_at is null and expires_at > ? order by id`, [value, now]);
    if (active.length === 0) return 0;
    const ids = active.map((session) => session.id);
    await tx.sql.run(`update sessions set revoked_at = ? where id in (${ids.map(() => "?").join(", ")}) and revoked_at is null`, [now, ...ids]);
    for (const session of active) {
      await this.audit.append(
        tx,
        caller,
        {
          action: AuditAction.RevokeSession,
          projectId: session.projectId,
          userId: session.userId,
          impersonatorId: session.impersonatorId,
          impersonatorEmail: session.impersonatorEmail,
          sessionId: session.id,
          details: { cause },
        },
        { status: AuditStatus.SUCCESS },
      );
    }
    return active.length;
  }

  /** The projects in which a member has active sessions: the chains its kill switch appends to. */
  async projectsWithActiveSessions(sql: Sql, impersonatorId: string): Promise<string[]> {
    const rows = await sql.all<{ project_id: string }>("select distinct project_id from sessions where impersonator_id = ? and revoked_at is null and expires_at > ?", [impersonatorId, this.clock.now()]);
    return rows.map((row) => row.project_id);
  }

  /** Impersonation sessions of a project, newest first. */
  async list(
    ctx: RequestContext,
    args: { projectId: string; userId?: string | null; impersonatorId?: string | null; activeOnly?: boolean | null; first?: number | null; after?: string | null },
  ): Promise<Connection<Session>> {
    const project = await this.projects.requireForActorOrm(ctx.em, ctx.actor, args.projectId);
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, ["number", "string"]);
    const where: Record<string, unknown>[] = [{ projectId: project.id }];
    if (args.userId) where.push({ userId: args.userId });
    if (args.impersonatorId) where.push({ impersonatorId: args.impersonatorId });
    if (args.activeOnly) where.push({ revokedAt: null, expiresAt: { $gt: this.clock.now() } });
    if (after) {
      const [startedAt, id] = after as [number, string];
      where.push({ $or: [{ startedAt: { $lt: new Date(startedAt) } }, { startedAt: new Date(startedAt), id: { $lt: id } }] });
    }
    const rows = await ctx.em.find(Session, { $and: where }, { orderBy: { startedAt: "desc", id: "desc" }, limit: limit + 1 });
    return toConnection(rows, limit, (session) => encodeCursor([session.startedAt.getTime(), session.id]));
  }

  private sign(session: Session): string {
    return this.jwt.sign({
      projectId: session.projectId,
      userId: session.userId,
      sessionId: session.id,
      impersonatorId: session.impersonatorId,
      impersonatorEmail: session.impersonatorEmail,
      sessionExpiresAt: session.expiresAt,
    });
  }

  private revokedAlready(draft: AuditDraft, session: Session): Session {
    draft.details = { noop: true, reason: "already revoked" };
    return detached(session, session.revokedAt);
  }

  private async verifiedClaims(args: SessionLocator): Promise<SessionJwtClaims | null> {
    if (typeof args.sessionJwt !== "string" || args.sessionJwt.length > maxCredentialLength) return null;
    return this.jwt.verifySignature(args.sessionJwt);
  }

  /**
   * Finds the session exactly one locator names, as the caller may see it: a backend or frontend
   * sees only its own project's sessions (SESSION_NOT_FOUND otherwise, never a hint it exists).
   * A JWT locator must come with its already verified claims.
   */
  private async locate(
    sql: Sql,
    ctx: RequestContext,
    args: SessionLocator,
    claims: SessionJwtClaims | null,
    accepted = "sessionId, sessionToken or sessionJwt",
  ): Promise<LocatedSession> {
    const given = [args.sessionId, args.sessionToken, args.sessionJwt].filter((v) => v !== null && v !== undefined);
    if (given.length !== 1) throw new AppError(ErrorCode.BAD_USER_INPUT, `Give exactly one of ${accepted}.`);
    // The session and its user in one statement: authenticateSession returns both on every call.
    const select = `select s.*, ${sql.joinedColumns(User, "u")} from sessions s left join users u on u.id = s.user_id`;
    let found: { main: Session; joined: { u: User | null } } | null = null;
    if (typeof args.sessionId === "string") {
      found = isPlausibleId(args.sessionId) ? await sql.entityWithJoined(Session, { u: User }, `${select} where s.id = ?`, [args.sessionId]) : null;
    } else if (typeof args.sessionToken === "string") {
      found =
        args.sessionToken.length <= maxCredentialLength
          ? await sql.entityWithJoined(Session, { u: User }, `${select} where s.token_hash = ?`, [hashSecret(args.sessionToken)])
          : null;
    } else if (claims) {
      found = await sql.entityWithJoined(Session, { u: User }, `${select} where s.id = ?`, [claims.sid]);
      const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (found && (!audience.includes(found.main.projectId) || claims.sub !== found.main.userId)) found = null;
    }
    const callerProject = actorProject(ctx);
    if (!found || (callerProject !== null && found.main.projectId !== callerProject)) {
      throw new AppError(ErrorCode.SESSION_NOT_FOUND);
    }
    return { session: found.main, user: found.joined.u };
  }

  private assertActive(session: Session, now: Date): void {
    if (session.revokedAt) throw new AppError(ErrorCode.SESSION_REVOKED);
    if (session.expiresAt.getTime() <= now.getTime()) throw new AppError(ErrorCode.SESSION_EXPIRED);
  }
}

/** A copy outside the unit of work, so that returning it does not make the commit write the row again. */
function detached(session: Session, revokedAt: Date | null): Session {
  return Object.assign(Object.create(Session.prototype) as Session, session, { revokedAt });
}

function actorProject(ctx: RequestContext): string | null {
  return ctx.actor.kind === "backend" || ctx.actor.kind === "frontend" ? ctx.actor.project.id : null;
}
