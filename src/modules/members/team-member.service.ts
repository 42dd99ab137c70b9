import type { EntityManager } from "@mikro-orm/core";
import type { ActorRecheck } from "../../auth/actor-recheck.js";
import { hashSecret, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import type { RequestContext } from "../../context.js";
import { inTransaction } from "../../db/transaction.js";
import { AppError } from "../../errors/app-error.js";
import { rethrowUniqueAs } from "../../db/unique-violation.js";
import { ErrorCode } from "../../errors/codes.js";
import { email, isPlausibleId, optionalText } from "../../graphql/validation.js";
import { callerOf } from "../audit/audit-log.service.js";
import type { SessionService } from "../sessions/session.service.js";
import type { TokenService } from "../tokens/token.service.js";
import { ApiKey } from "./api-key.entity.js";
import { TeamMember } from "./team-member.entity.js";
import { canImpersonate, TeamRole } from "./team-role.js";

export interface NewTeamMember {
  member: TeamMember;
  apiKey: string;
}

export class TeamMemberService {
  constructor(
    private readonly clock: Clock,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly recheck: ActorRecheck,
  ) {}

  /** Creates a member and its first API key; the key is returned once and stored only hashed. */
  async create(em: EntityManager, input: { email: string; name?: string | null; role: TeamRole }): Promise<NewTeamMember> {
    const member = new TeamMember();
    member.email = email(input.email);
    member.name = optionalText(input.name, "name", 200);
    member.role = input.role;
    member.createdAt = this.clock.now();
    const apiKey = randomSecret(SecretPrefix.memberApiKey);
    const key = new ApiKey();
    key.memberId = member.id;
    key.keyHash = hashSecret(apiKey);
    key.createdAt = member.createdAt;
    const duplicate = () => new AppError(ErrorCode.BAD_USER_INPUT, "A team member with this email already exists.");
    await inTransaction(em, async (tx) => {
      if (await tx.em.count(TeamMember, { email: member.email })) throw duplicate();
      // A concurrent creation of the same email can pass the count; the unique index decides.
      await tx.em.insert(member).catch(rethrowUniqueAs(duplicate));
      await tx.em.insert(key);
    });
    return { member, apiKey };
  }

  /**
   * Changes a member's role or disabled flag. Disabling a member, or giving it a role that may not
   * impersonate, revokes its active impersonation sessions (each audited) and voids its unused
   * tokens in the same transaction. The last enabled ADMIN cannot be disabled or demoted.
   */
  async update(ctx: RequestContext, id: string, input: { role?: TeamRole | null; disabled?: boolean | null }): Promise<TeamMember> {
    return inTransaction(ctx.em, async (tx) => {
      const member = isPlausibleId(id) ? await tx.em.findOne(TeamMember, { id }) : null;
      if (!member) throw new AppError(ErrorCode.NOT_FOUND, "Team member not found.");
      const wasAbleToImpersonate = !member.disabled && canImpersonate(member.role);
      const losesAdmin =
        member.role === TeamRole.ADMIN && !member.disabled && ((input.role && input.role !== TeamRole.ADMIN) || input.disabled === true);
      if (losesAdmin && (await tx.em.count(TeamMember, { role: TeamRole.ADMIN, disabled: false })) <= 1) {
        throw new AppError(ErrorCode.FORBIDDEN, "This is the last enabled ADMIN; it cannot be disabled or demoted.");
      }
      // Live subscriptions of this member re-check it at their next event.
      tx.afterCommit(() => this.recheck.changed("member", member.id));
      if (input.role) member.role = input.role;
      if (typeof input.disabled === "boolean") member.disabled = input.disabled;
      const canStillImpersonate = !member.disabled && canImpersonate(member.role);
      if (wasAbleToImpersonate && !canStillImpersonate) {
        const cause = member.disabled ? "member_disabled" : "member_role_changed";
        await tx.em.flush();
        await this.tokens.voidOutstanding(tx.sql, { impersonatorId: member.id }, this.clock.now());
        await this.sessions.revokeActive(tx, callerOf(ctx), { impersonatorId: member.id }, cause);
      }
      return member;
    });
  }
}
