import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { Permission } from "../../auth/permissions.js";
import type { RequestContext } from "../../context.js";
import { TeamMember } from "../members/team-member.entity.js";
import { User } from "../users/user.entity.js";
import { AuditEvent } from "./audit-event.entity.js";
import { maxCatchUpEvents } from "./audit-catch-up.js";
import { AuditEventConnection, AuditEventFilter, AuditLogVerification } from "./audit.types.js";

type AuditEventAddedArgs = { projectId: string; filter?: AuditEventFilter | null; afterSeq?: number | null };

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Authorized(Permission.ReadAudit)
  @Query(() => AuditEventConnection, {
    description: "A project's audit events, newest first; with projectId omitted, the install-wide log (member changes), ADMIN only.",
  })
  auditEvents(
    @Arg("projectId", () => ID, { nullable: true }) projectId: string | null,
    @Arg("filter", () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
    @Arg("first", () => Int, { nullable: true, description: "1 to 500; 50 when absent." }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<AuditEventConnection> {
    return ctx.services.auditQuery.list(ctx, { projectId, filter, first, after });
  }

  @Authorized(Permission.ReadAudit)
  @Query(() => AuditLogVerification, {
    description: "Re-computes the project's audit hash chain (with projectId omitted, the install-wide one, ADMIN only) and reports the first event that does not verify.",
  })
  verifyAuditLog(@Arg("projectId", () => ID, { nullable: true }) projectId: string | null, @Ctx() ctx: RequestContext): Promise<AuditLogVerification> {
    return ctx.services.auditVerify.verify(ctx, projectId);
  }

  /**
   * `subscribe` (not `topics`) so that the project is checked when the subscription starts: a refusal
   * reaches the client at subscribe time with its code, not as silence. @Authorized guards both the
   * start and each delivered event.
   */
  @Authorized(Permission.ReadAudit)
  @Subscription(() => AuditEvent, {
    description: "Each committed audit event of the project that matches the filter, once.",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, AuditEventAddedArgs, RequestContext>) =>
      context.services.auditQuery.subscribe(context, args),
  })
  auditEventAdded(
    @Root() event: AuditEvent,
    @Arg("projectId", () => ID) _projectId: string,
    @Arg("filter", () => AuditEventFilter, { nullable: true }) _filter: AuditEventFilter | null,
    @Arg("afterSeq", () => Int, {
      nullable: true,
      description: `Resume: first the committed events with a greater seq (matching the filter, in seq order), then the live ones, none twice. At most ${maxCatchUpEvents} events behind the project's newest; further back, page with auditEvents first.`,
    })
    _afterSeq: number | null,
  ): AuditEvent {
    return event;
  }

  @FieldResolver(() => User, { nullable: true, description: "The impersonated user (through the request's loader)." })
  async user(@Root() event: AuditEvent, @Ctx() ctx: RequestContext): Promise<User | null> {
    if (!event.userId) return null;
    const user = await ctx.loaders.user.load(event.userId);
    // A refused call may name another project's user; never show it to this project's readers.
    return user && user.projectId === event.projectId ? user : null;
  }

  @FieldResolver(() => TeamMember, { nullable: true, description: "The impersonating team member (through the request's loader)." })
  impersonator(@Root() event: AuditEvent, @Ctx() ctx: RequestContext): Promise<TeamMember | null> | null {
    return event.impersonatorId ? ctx.loaders.member.load(event.impersonatorId) : null;
  }
}
