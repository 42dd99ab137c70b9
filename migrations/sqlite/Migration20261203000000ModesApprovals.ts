import { Migration } from "@mikro-orm/migrations";

/**
 * Modes and four-eyes approval (SPEC §9): the policy's defaultMode, allowReadWrite, requireApproval
 * and approvalTtlMinutes; the mode of tokens, sessions and audit events (earlier tokens and sessions
 * were READ_WRITE); the approved request behind a token and an event; impersonation_requests.
 */
export class Migration20261203000000ModesApprovals extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table `impersonation_requests` (`id` text not null, `project_id` text not null, `user_id` text not null, `requester_id` text not null, `requester_email` text not null, `reason` text not null, `mode` text not null, `status` text not null, `decided_by_id` text null, `decided_at` datetime null, `denial_reason` text null, `used_at` datetime null, `created_at` datetime not null, `expires_at` datetime not null, primary key (`id`));");
    this.addSql("create index `impersonation_requests_requester_id_status_index` on `impersonation_requests` (`requester_id`, `status`);");
    this.addSql("create index `impersonation_requests_project_id_created_at_index` on `impersonation_requests` (`project_id`, `created_at`);");
    this.addSql("alter table `audit_events` add column `mode` text null;");
    this.addSql("alter table `audit_events` add column `impersonation_request_id` text null;");
    this.addSql("alter table `impersonation_tokens` add column `mode` text not null default 'READ_WRITE';");
    this.addSql("alter table `impersonation_tokens` add column `impersonation_request_id` text null;");
    this.addSql("alter table `projects` add column `default_mode` text not null default 'READ_WRITE';");
    this.addSql("alter table `projects` add column `allow_read_write` integer not null default true;");
    this.addSql("alter table `projects` add column `require_approval` text not null default 'PROTECTED_USERS';");
    this.addSql("alter table `projects` add column `approval_ttl_minutes` integer not null default 60;");
    this.addSql("alter table `sessions` add column `mode` text not null default 'READ_WRITE';");
  }
}
