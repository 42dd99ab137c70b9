import type { MikroORM } from "@mikro-orm/core";
import { ActorRecheck } from "./auth/actor-recheck.js";
import { FailureLimiter } from "./auth/failure-limiter.js";
import { SessionJwt } from "./auth/session-jwt.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { Services } from "./context.js";
import type { Database } from "./db/database.js";
import { databaseOf } from "./db/database-of.js";
import { Metrics } from "./metrics/metrics.js";
import { ApprovalService } from "./modules/approvals/approval.service.js";
import { AuditLog } from "./modules/audit/audit-log.service.js";
import { AuditQueryService } from "./modules/audit/audit-query.service.js";
import { AuditVerifyService } from "./modules/audit/audit-verify.service.js";
import { AuditStream } from "./modules/audit/audit-stream.js";
import { toAuditEventMessage } from "./modules/audit/audit-message.js";
import { TeamMemberService } from "./modules/members/team-member.service.js";
import { PolicyService } from "./modules/policy/policy.service.js";
import { ProjectService } from "./modules/projects/project.service.js";
import { SessionService } from "./modules/sessions/session.service.js";
import { SigningKeyService } from "./modules/signing-keys/signing-key.service.js";
import { ImpersonationCheckService } from "./modules/tokens/impersonation-check.service.js";
import { TokenService } from "./modules/tokens/token.service.js";
import { UserService } from "./modules/users/user.service.js";
import { WebhookEndpointService } from "./modules/webhooks/webhook-endpoint.service.js";
import { WebhookOutbox } from "./modules/webhooks/webhook-outbox.js";
import { WebhookWorker } from "./modules/webhooks/webhook-worker.js";
import type { AppPubSub } from "./pubsub/pubsub.js";
import { Topic } from "./pubsub/topics.js";

// The members of context.ts's `Services`: context.ts, which every module imports, imports no
// module (no import circle); the composition root declares what it builds.
declare module "./context.js" {
  /** The application's singletons; each request reaches them through its context. */
  interface Services {
    config: Config;
    clock: Clock;
    orm: MikroORM;
    /** The database's one door (statements and transactions), for code that has no service of its own (the authChecker's refusal path). */
    db: Database;
    pubsub: AppPubSub;
    audit: AuditLog;
    auditQuery: AuditQueryService;
    auditVerify: AuditVerifyService;
    signingKeys: SigningKeyService;
    jwt: SessionJwt;
    projects: ProjectService;
    members: TeamMemberService;
    users: UserService;
    policy: PolicyService;
    tokens: TokenService;
    sessions: SessionService;
    /** Four-eyes approval: impersonation requests and their decisions. */
    approvals: ApprovalService;
    /** impersonationCheck: the real calls' rules, run without writing. */
    impersonationCheck: ImpersonationCheckService;
    /** Counts failed credentials and token guesses (RATE_LIMITED once a key has spent its burst). */
    failures: FailureLimiter;
    /** Webhook endpoints and the delivery log. */
    webhooks: WebhookEndpointService;
    /** Sends queued webhook deliveries; started and stopped by the server. */
    webhookWorker: WebhookWorker;
    /** The NDJSON stream of committed audit events (AUDIT_LOG_FILE), if configured; closed by the server. */
    auditStream: AuditStream | null;
    /** The Prometheus metrics (served on METRICS_PORT), counted where each decision is made. */
    metrics: Metrics;
  }
}

export type { Services };

/**
 * The services, built and not yet started: no signing key loaded or created, nothing on a timer.
 * `npm run bootstrap` uses them so; `createServices` starts them.
 */
export function buildServices(deps: { orm: MikroORM; clock: Clock; config: Config; pubsub: AppPubSub; publicUrl: () => string }): Services {
  const { orm, clock, config, pubsub } = deps;
  const db = databaseOf(orm.em);
  // The gauges read these on each scrape (after everything below exists).
  const metrics: Metrics = new Metrics({ pendingWebhookDeliveries: () => webhookWorker.pendingDeliveries(), liveSubscribers: () => auditQuery.listenerCount() });
  // Webhooks: deliveries are queued in the event's own transaction, sent once it has committed.
  const outbox = new WebhookOutbox(clock);
  const webhookWorker = new WebhookWorker(db, clock, config, metrics);
  const auditStream = config.auditLogFile ? new AuditStream(config.auditLogFile) : null;
  const audit = new AuditLog(clock, db, {
    webhookOutbox: outbox,
    webhookWorker,
    subscribers: { publish: (event) => pubsub.publish(Topic.AuditEventAdded, toAuditEventMessage(event)) },
    stream: auditStream,
  });
  const signingKeys = new SigningKeyService(db, clock);
  const jwt = new SessionJwt(signingKeys, clock, deps.publicUrl);
  const failures = new FailureLimiter(clock, { burst: config.failureBurst, refillPerSecond: config.failureRefillPerSecond }, metrics);
  const recheck = new ActorRecheck(db, pubsub);
  const projects = new ProjectService(clock, db, audit, recheck);
  const sessions = new SessionService(clock, audit, projects, jwt, db, metrics);
  const approvals = new ApprovalService(clock, audit, projects, db, metrics);
  const tokens = new TokenService(clock, audit, projects, sessions, jwt, failures, metrics, approvals);
  const impersonationCheck = new ImpersonationCheckService(clock, tokens, db);
  const policy = new PolicyService(clock, audit, projects, sessions, tokens, approvals, db);
  const members = new TeamMemberService(clock, db, audit, sessions, tokens, approvals, recheck);
  const users = new UserService(clock, projects, db, audit, sessions);
  const auditQuery = new AuditQueryService(db, projects, pubsub, recheck);
  const auditVerify = new AuditVerifyService(db, projects);
  const webhooks = new WebhookEndpointService(clock, config, db, projects, outbox, webhookWorker);
  return { config, clock, orm, db, pubsub, audit, auditQuery, auditVerify, signingKeys, jwt, projects, members, users, policy, tokens, sessions, approvals, impersonationCheck, failures, webhooks, webhookWorker, auditStream, metrics };
}

/** The services, started: the signing keys loaded (the first one created) and reloaded on a timer. */
export async function createServices(deps: Parameters<typeof buildServices>[0]): Promise<Services> {
  const services = buildServices(deps);
  await services.signingKeys.init();
  services.signingKeys.startRefreshing(deps.config.signingKeyRefreshMs);
  return services;
}
