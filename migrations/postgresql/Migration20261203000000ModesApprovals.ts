import { Migration } from "@mikro-orm/migrations";

/**
 * Modes and four-eyes approval (SPEC §9): the policy's defaultMode, allowReadWrite, requireApproval
 * and approvalTtlMinutes; the mode of tokens, sessions and audit events (earlier tokens and sessions
 * were READ_WRITE); the approved request behind a token and an event; impersonation_requests.
 */
export class Migration20261203000000ModesApprovals extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"impersonation_requests\" (\"id\" varchar(64) not null, \"project_id\" varchar(64) not null, \"user_id\" varchar(64) not null, \"requester_id\" varchar(64) not null, \"requester_email\" varchar(320) not null, \"reason\" varchar(500) not null, \"mode\" varchar(16) not null, \"status\" varchar(16) not null, \"decided_by_id\" varchar(64) null, \"decided_at\" timestamptz null, \"denial_reason\" varchar(500) null, \"used_at\" timestamptz null, \"created_at\" timestamptz not null, \"expires_at\" timestamptz not null, constraint \"impersonation_requests_pkey\" primary key (\"id\"));");
    this.addSql("create index \"impersonation_requests_requester_id_status_index\" on \"impersonation_requests\" (\"requester_id\", \"status\");");
    this.addSql("create index \"impersonation_requests_project_id_created_at_index\" on \"impersonation_requests\" (\"project_id\", \"created_at\");");
    this.addSql("alter table \"audit_events\" add column \"mode\" varchar(16) null, add column \"impersonation_request_id\" varchar(64) null;");
    this.addSql("alter table \"impersonation_tokens\" add column \"mode\" varchar(16) not null default 'READ_WRITE', add column \"impersonation_request_id\" varchar(64) null;");
    this.addSql("alter table \"projects\" add column \"default_mode\" varchar(16) not null default 'READ_WRITE', add column \"allow_read_write\" boolean not null default true, add column \"require_approval\" varchar(16) not null default 'PROTECTED_USERS', add column \"approval_ttl_minutes\" int not null default 60;");
    this.addSql("alter table \"sessions\" add column \"mode\" varchar(16) not null default 'READ_WRITE';");
  }
}
