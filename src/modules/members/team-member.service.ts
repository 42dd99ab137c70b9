import type { ActorRecheck } from "../../auth/actor-recheck.js";
import { hashSecret, newId, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import type { Database, Tx } from "../../db/database.js";
import { detachedEntity } from "../../db/detached-entity.js";
import { AppError } from "../../errors/app-error.js";
import { ErrorCode } from "../../errors/codes.js";
import { email, isPlausibleId, optionalText } from "../../graphql/validation.js";
import { callerOf, type AuditLog } from "../audit/audit-log.service.js";
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

  /**
   * Changes a member's role or disabled flag. Disabling a member, or giving it a role that may not
   * impersonate, revokes its active impersonation sessions (each audited) and voids its unused
   * tokens in the same transaction. The last enabled ADMIN cannot be disabled or demoted.
   *
   * A kill switch: its transaction takes the chain locks of the projects the member has active
   * sessions in before it writes any row (a session started in another project meanwhile is revoked
   * too; its chain is locked when its event is appended).
   */
  async update(ctx: RequestContext, id: string, input: { role?: TeamRole | null; disabled?: boolean | null }): Promise<TeamMember> {
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
      if (role !== member.role || disabled !== member.disabled) {
        await teamMemberRepository.setAccess(tx.sql, member.id, { role, disabled });
        member.role = role;
        member.disabled = disabled;
      }
      const canStillImpersonate = !member.disabled && canImpersonate(member.role);
      if (wasAbleToImpersonate && !canStillImpersonate) {
        const cause = member.disabled ? "member_disabled" : "member_role_changed";
        await this.tokens.voidOutstanding(tx.sql, { impersonatorId: member.id }, this.clock.now());
        await this.sessions.revokeActive(tx, callerOf(ctx), { impersonatorId: member.id }, cause);
      }
      return member;
    });
  }
}

function notFound(): AppError {
  return new AppError(ErrorCode.NOT_FOUND, "Team member not found.");
}
