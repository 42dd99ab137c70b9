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
import type { Metrics, RevocationCause } from "../../metrics/metrics.js";
import { callerProjectOf } from "../audit/audit-draft-scope.js";
import type { AuditCaller, AuditDraft, AuditLog } from "../audit/audit-log.service.js";
import { AuditStatus } from "../audit/audit-status.js";
import { sessionDurationMinutes } from "../policy/policy.types.js";
import type { ProjectService } from "../projects/project.service.js";
import type { ImpersonationToken } from "../tokens/impersonation-token.entity.js";
import type { User } from "../users/user.entity.js";
import { killSwitchRevokeDraft, revokeSessionDraft } from "./session.audit.js";
import { Session } from "./session.entity.js";
import { sessionRepository, type SessionFilter, type SessionKey, type SessionWithUser } from "./session.repository.js";

const maxCredentialLength = 4096;

export interface SessionLocator {
  sessionId?: string | null;
  sessionToken?: string | null;
  sessionJwt?: string | null;
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
    private readonly metrics: Metrics,
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
      mode: token.mode,
      startedAt: now,
      lastAccessedAt: now,
      expiresAt: new Date(now.getTime() + sessionDurationMinutes * 60_000),
      revokedAt: null,
    });
    await sessionRepository.insert(sql, session);
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
    await sessionRepository.touch(this.db.sql, session.id, now);
    session.lastAccessedAt = now;
    return { session, user, sessionJwt: this.jwt.signFor(session) };
  }

  /**
   * Revokes a session. Revoking an already revoked session succeeds and changes nothing; its audit
   * event records the no-op. The frontend may revoke only with the session's own token or JWT. A
   * member's call names no project: the session's is read first, so that its chain lock is taken
   * before anything else, and the session is read again inside the transaction.
   */
  async revoke(ctx: RequestContext, args: SessionLocator): Promise<Session> {
    // Verified before the transaction opens: an unknown kid may reload keys, which must not wait on
    // the connection the transaction holds (SQLite has one).
    const claims = await this.verifiedClaims(args);
    return this.audit.audited(
      ctx,
      revokeSessionDraft(ctx, null),
      async (tx, draft) => {
        if (ctx.actor.kind === "frontend" && args.sessionId) {
          throw new AppError(ErrorCode.FORBIDDEN, "The frontend may revoke a session only with its sessionToken or sessionJwt.");
        }
        const { session } = await this.locate(tx.sql, ctx, args, claims);
        Object.assign(draft, revokeSessionDraft(ctx, session));
        if (session.revokedAt) return revokedAlready(draft, session);
        const now = this.clock.now();
        // The conditional update decides: of many concurrent revocations exactly one changes the row.
        if (await sessionRepository.revokeIfActive(tx.sql, session.id, now)) {
          session.revokedAt = now;
          this.countRevoked(tx, "explicit", 1);
          return session;
        }
        // Lost the race to a concurrent revocation: report the time it recorded.
        return revokedAlready(draft, (await sessionRepository.find(tx.sql, { id: session.id }))!);
      },
      { projectOf: () => this.projectOf(args, claims) },
    );
  }

  /**
   * Revokes every active session matching `filter` inside `tx`, one SUCCESS RevokeSession event
   * each (the kill switches: policy off, member disabled or demoted, and a policy or user change that
   * the running session no longer passes). Returns how many.
   */
  async revokeActive(tx: Tx, caller: AuditCaller, filter: SessionFilter, cause: RevocationCause): Promise<number> {
    const now = this.clock.now();
    const active = await sessionRepository.findActive(tx.sql, filter, now);
    if (active.length === 0) return 0;
    await sessionRepository.revokeAll(tx.sql, active.map((session) => session.id), now);
    for (const session of active) {
      await this.audit.append(tx, caller, killSwitchRevokeDraft(session, cause), { status: AuditStatus.SUCCESS });
    }
    this.countRevoked(tx, cause, active.length);
    return active.length;
  }

  /** Counts revocations once `tx` has committed them (masquerade_sessions_revoked_total). */
  private countRevoked(tx: Tx, cause: RevocationCause, count: number): void {
    tx.afterCommit(() => this.metrics.sessionsRevoked.inc({ cause }, count));
  }

  /** The projects in which a member has active sessions: the chains its kill switch appends to. */
  async projectsWithActiveSessions(sql: Sql, impersonatorId: string): Promise<string[]> {
    return sessionRepository.projectsWithActive(sql, impersonatorId, this.clock.now());
  }

  /** Impersonation sessions of a project, newest first. */
  async list(
    ctx: RequestContext,
    args: { projectId: string; userId?: string | null; impersonatorId?: string | null; activeOnly?: boolean | null; first?: number | null; after?: string | null },
  ): Promise<Connection<Session>> {
    const project = await this.projects.requireForActor(this.db.sql, ctx.actor, args.projectId);
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, ["number", "string"]) as [number, string] | null;
    const rows = await sessionRepository.list(
      this.db.sql,
      { projectId: project.id, userId: args.userId, impersonatorId: args.impersonatorId, activeAt: args.activeOnly ? this.clock.now() : null },
      after && [new Date(after[0]), after[1]],
      limit + 1,
    );
    return toConnection(rows, limit, (session) => encodeCursor([session.startedAt.getTime(), session.id]));
  }

  private async verifiedClaims(args: SessionLocator): Promise<SessionJwtClaims | null> {
    if (typeof args.sessionJwt !== "string" || args.sessionJwt.length > maxCredentialLength) return null;
    return this.jwt.verifySignature(args.sessionJwt);
  }

  /**
   * The project of the session the locator names, as `locate` would find it, or null (then `locate`
   * refuses the call inside the transaction).
   */
  private async projectOf(args: SessionLocator, claims: SessionJwtClaims | null): Promise<string | null> {
    const key = givenCount(args) === 1 ? keyOf(args, claims) : null;
    const owner = key ? await sessionRepository.findOwner(this.db.sql, key) : null;
    return owner && matchesClaims(owner, args, claims) ? owner.projectId : null;
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
  ): Promise<SessionWithUser> {
    if (givenCount(args) !== 1) throw new AppError(ErrorCode.BAD_USER_INPUT, `Give exactly one of ${accepted}.`);
    const key = keyOf(args, claims);
    const found = key ? await sessionRepository.findWithUser(sql, key) : null;
    const callerProject = callerProjectOf(ctx);
    if (!found || !matchesClaims(found.session, args, claims) || (callerProject !== null && found.session.projectId !== callerProject)) {
      throw new AppError(ErrorCode.SESSION_NOT_FOUND);
    }
    return found;
  }

  private assertActive(session: Session, now: Date): void {
    if (session.revokedAt) throw new AppError(ErrorCode.SESSION_REVOKED);
    if (session.expiresAt.getTime() <= now.getTime()) throw new AppError(ErrorCode.SESSION_EXPIRED);
  }
}

function givenCount(args: SessionLocator): number {
  return [args.sessionId, args.sessionToken, args.sessionJwt].filter((v) => v !== null && v !== undefined).length;
}

/** The key the locator names the session by; null when it cannot name one (malformed, unverified). */
function keyOf(args: SessionLocator, claims: SessionJwtClaims | null): SessionKey | null {
  if (typeof args.sessionId === "string") return isPlausibleId(args.sessionId) ? { id: args.sessionId } : null;
  if (typeof args.sessionToken === "string") return args.sessionToken.length <= maxCredentialLength ? { tokenHash: hashSecret(args.sessionToken) } : null;
  return claims ? { id: claims.sid } : null;
}

/** A session found by a JWT's `sid` is that JWT's only if the JWT names its project and user too. */
function matchesClaims(session: { projectId: string; userId: string }, args: SessionLocator, claims: SessionJwtClaims | null): boolean {
  if (typeof args.sessionId === "string" || typeof args.sessionToken === "string" || !claims) return true;
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return audience.includes(session.projectId) && claims.sub === session.userId;
}

function revokedAlready(draft: AuditDraft, session: Session): Session {
  draft.details = { noop: true, reason: "already revoked" };
  return session;
}
