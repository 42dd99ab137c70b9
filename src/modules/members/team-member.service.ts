import type { ActorRecheck } from "../../auth/actor-recheck.js";
import { hashSecret, newId, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database, Tx } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { email, isPlausibleId, optionalText } from "../../graphql/validation.js";
import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from "../../graphql/connection.js";
import { callerOf, type AuditCaller, type AuditDraft, type AuditLog } from "../audit/audit-log.service.js";
import { AuditStatus } from "../audit/audit-status.js";
import { isAppError } from "../../errors/app-error.js";
import { createMemberDraft, rotateMemberKeyDraft, updateMemberDraft } from "./team-member.audit.js";
import type { ApprovalService } from "../approvals/approval.service.js";
import type { SessionService } from "../sessions/session.service.js";
import type { TokenService } from "../tokens/token.service.js";
import { ApiKey } from "./api-key.entity.js";
import { apiKeyRepository } from "./api-key.repository.js";
import { TeamMember } from "./team-member.entity.js";
import { teamMemberRepository } from "./team-member.repository.js";
import { canImpersonate, TeamRole } from "./team-role.js";

export interface NewTeamMember {
  member: TeamMember;
  apiKey: string;
}

export class TeamMemberService {
  constructor(
    private readonly clock: Clock,
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly approvals: ApprovalService,
    private readonly recheck: ActorRecheck,
  ) {}

  /**
   * Creates a member and its first API key; the key is returned once and stored only hashed. In
   * `tx` when it is part of a larger transaction (bootstrap), else in one of its own.
   */
  async create(input: { email: string; name?: string | null; role: TeamRole }, tx?: Tx): Promise<NewTeamMember> {
    if (!tx) return this.db.transaction((own) => this.create(input, own));
    const now = this.clock.now();
    const member = detachedEntity(TeamMember, {
      id: newId("member"),
      email: email(input.email),
      name: optionalText(input.name, "name", 200),
      role: input.role,
      disabled: false,
      createdAt: now,
    });
    const apiKey = randomSecret(SecretPrefix.memberApiKey);
    const key = detachedEntity(ApiKey, { id: newId("key"), memberId: member.id, keyHash: hashSecret(apiKey), createdAt: now });
    if (!(await teamMemberRepository.insertUnlessEmailTaken(tx.sql, member))) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, "A team member with this email already exists.");
    }
    await apiKeyRepository.insert(tx.sql, key);
    return { member, apiKey };
  }

  /** createTeamMember: `create`, audited in the install-wide log (the key never in the event). */
  createAudited(ctx: RequestContext, input: { email: string; name?: string | null; role: TeamRole }): Promise<NewTeamMember> {
    return this.audit.audited(ctx, createMemberDraft(input), async (tx, draft) => {
      const created = await this.create(input, tx);
      draft.details = { ...draft.details, memberId: created.member.id };
      return created;
    });
  }

  /** Every member, oldest first (members of every role may list them). */
  async list(args: { first?: number | null; after?: string | null }): Promise<Connection<TeamMember>> {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after, ["number", "string"]) as [number, string] | null;
    const rows = await teamMemberRepository.list(this.db.sql, { after: after ? [new Date(after[0]), after[1]] : null, limit: limit + 1 });
    return toConnection(rows, limit, (member) => encodeCursor([member.createdAt.getTime(), member.id]));
  }

  /**
   * Replaces a member's API key: a member may rotate its own, an ADMIN anyone's (FORBIDDEN
   * otherwise). The old key is deleted in the same transaction, so it stops working when this
   * commits; live subscriptions of the old key end at their next event (ActorRecheck compares the
   * key they started with). Audited in the install-wide log; the new key is returned once.
   */
  rotateApiKey(ctx: RequestContext, id: string): Promise<NewTeamMember> {
    return this.audit.audited(ctx, rotateMemberKeyDraft(id), async (tx) => {
      const actor = ctx.actor;
      const isSelf = actor.kind === "member" && actor.member.id === id;
      const isAdmin = actor.kind === "member" && actor.member.role === TeamRole.ADMIN;
      if (!isSelf && !isAdmin) throw new AppError(ErrorCode.FORBIDDEN, "A member may rotate only its own API key.");
      return this.replaceKey(tx, id);
    });
  }

  /**
   * `npm run admin -- reset-key`: a new key for an existing enabled ADMIN, found by email, audited
   * in the install-wide log with the caller `cli`. Refuses (BAD_USER_INPUT, nothing changed) for an
   * unknown email, a disabled member or another role.
   */
  async resetAdminKey(caller: AuditCaller, adminEmail: string): Promise<NewTeamMember> {
    const draft = rotateMemberKeyDraft(null);
    try {
      return await this.audit.transaction([], async (tx) => {
        const member = await teamMemberRepository.findByEmail(tx.sql, email(adminEmail));
        if (!member || member.disabled || member.role !== TeamRole.ADMIN) {
          throw new AppError(ErrorCode.BAD_USER_INPUT, "No enabled ADMIN has this email.");
        }
        draft.details = { ...draft.details, memberId: member.id };
        const result = await this.replaceKey(tx, member.id);
        await this.audit.append(tx, caller, draft, { status: AuditStatus.SUCCESS });
        return result;
      });
    } catch (error) {
      const code = isAppError(error) ? error.code : ErrorCode.INTERNAL_SERVER_ERROR;
      await this.db.transaction((tx) => this.audit.append(tx, caller, draft, { status: AuditStatus.FAILURE, errorCode: code }).then(() => undefined));
      throw error;
    }
  }

  private async replaceKey(tx: Tx, id: string): Promise<NewTeamMember> {
    const member = isPlausibleId(id) ? await teamMemberRepository.findById(tx.sql, id) : null;
    if (!member) throw notFound();
    const apiKey = randomSecret(SecretPrefix.memberApiKey);
    await apiKeyRepository.deleteForMember(tx.sql, member.id);
    await apiKeyRepository.insert(tx.sql, detachedEntity(ApiKey, { id: newId("key"), memberId: member.id, keyHash: hashSecret(apiKey), createdAt: this.clock.now() }));
    tx.afterCommit(() => this.recheck.changed("member", member.id));
    return { member, apiKey };
  }

  /**
   * Changes a member's role or disabled flag. Disabling a member, or giving it a role that may not
   * impersonate, revokes its active impersonation sessions (each audited), voids its unused tokens
   * and expires its open impersonation requests, in the same transaction. The last enabled ADMIN
   * cannot be disabled or demoted.
   *
   * A kill switch: its transaction takes the chain locks of the projects the member has active
   * sessions in before it writes any row (a session started in another project meanwhile is revoked
   * too; its chain is locked when its event is appended).
   */
  async update(ctx: RequestContext, id: string, input: { role?: TeamRole | null; disabled?: boolean | null }): Promise<TeamMember> {
    const draft = updateMemberDraft(id);
    try {
      return await this.updateInTransaction(ctx, id, input, draft);
    } catch (error) {
      await this.audit.recordFailure(ctx, draft, isAppError(error) ? error.code : ErrorCode.INTERNAL_SERVER_ERROR);
      throw error;
    }
  }

  private async updateInTransaction(
    ctx: RequestContext,
    id: string,
    input: { role?: TeamRole | null; disabled?: boolean | null },
    draft: AuditDraft,
  ): Promise<TeamMember> {
    if (!isPlausibleId(id)) throw notFound();
    const projectIds = await this.sessions.projectsWithActiveSessions(this.db.sql, id);
    return this.audit.transaction(projectIds, async (tx) => {
      const member = await teamMemberRepository.findById(tx.sql, id);
      if (!member) throw notFound();
      const wasAbleToImpersonate = !member.disabled && canImpersonate(member.role);
      const losesAdmin =
        member.role === TeamRole.ADMIN && !member.disabled && ((input.role && input.role !== TeamRole.ADMIN) || input.disabled === true);
      if (losesAdmin && (await teamMemberRepository.countEnabledAdmins(tx.sql)) <= 1) {
        throw new AppError(ErrorCode.FORBIDDEN, "This is the last enabled ADMIN; it cannot be disabled or demoted.");
      }
      // Live subscriptions of this member re-check it at their next event.
      tx.afterCommit(() => this.recheck.changed("member", member.id));
      const role = input.role ?? member.role;
      const disabled = typeof input.disabled === "boolean" ? input.disabled : member.disabled;
      draft.details = { ...draft.details, old: { role: member.role, disabled: member.disabled }, new: { role, disabled } };
      if (role !== member.role || disabled !== member.disabled) {
        await teamMemberRepository.setAccess(tx.sql, member.id, { role, disabled });
        member.role = role;
        member.disabled = disabled;
      }
      const canStillImpersonate = !member.disabled && canImpersonate(member.role);
      if (wasAbleToImpersonate && !canStillImpersonate) {
        const cause = member.disabled ? "member_disabled" : "member_role_changed";
        const now = this.clock.now();
        await this.tokens.voidOutstanding(tx.sql, { impersonatorId: member.id }, now);
        await this.approvals.voidOpen(tx.sql, { requesterId: member.id }, now);
        await this.sessions.revokeActive(tx, callerOf(ctx), { impersonatorId: member.id }, cause);
      }
      // Last: the install-wide chain's lock comes after the projects' (one order for every writer).
      await this.audit.append(tx, callerOf(ctx), draft, { status: AuditStatus.SUCCESS });
      return member;
    });
  }
}

function notFound(): AppError {
  return new AppError(ErrorCode.NOT_FOUND, "Team member not found.");
}
