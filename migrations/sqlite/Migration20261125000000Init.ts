import { Migration } from "@mikro-orm/migrations";

/** The initial schema. Generated from the entities, then frozen: later changes get new migrations. */
export class Migration20261125000000Init extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table `member_api_keys` (`id` text not null, `member_id` text not null, `key_hash` text not null, `created_at` datetime not null, primary key (`id`));");
    this.addSql("create index `member_api_keys_member_id_index` on `member_api_keys` (`member_id`);");
    this.addSql("create unique index `member_api_keys_key_hash_unique` on `member_api_keys` (`key_hash`);");
    this.addSql("create table `audit_events` (`id` text not null, `project_id` text not null, `seq` integer not null, `action` text not null, `event_type` text null, `status` text not null, `error_code` text null, `request_id` text not null, `user_id` text null, `impersonator_id` text null, `impersonator_email` text null, `reason` text null, `session_id` text null, `ip_address` text null, `user_agent` text null, `actor_type` text not null, `actor_id` text null, `details` text null, `created_at` datetime not null, `prev_hash` text not null, `hash` text not null, primary key (`id`));");
    this.addSql("create index `audit_events_project_id_created_at_index` on `audit_events` (`project_id`, `created_at`);");
    this.addSql("create unique index `audit_events_project_id_seq_unique` on `audit_events` (`project_id`, `seq`);");
    this.addSql("create table `impersonation_tokens` (`id` text not null, `project_id` text not null, `user_id` text not null, `impersonator_id` text not null, `impersonator_email` text not null, `reason` text not null, `token_hash` text not null, `created_at` datetime not null, `expires_at` datetime not null, `used_at` datetime null, `voided_at` datetime null, primary key (`id`));");
    this.addSql("create index `impersonation_tokens_project_id_index` on `impersonation_tokens` (`project_id`);");
    this.addSql("create index `impersonation_tokens_impersonator_id_index` on `impersonation_tokens` (`impersonator_id`);");
    this.addSql("create unique index `impersonation_tokens_token_hash_unique` on `impersonation_tokens` (`token_hash`);");
    this.addSql("create table `projects` (`id` text not null, `name` text not null, `login_redirect_url` text not null, `secret_hash` text not null, `public_token_hash` text not null, `allow_impersonation` integer not null default false, `allow_frontend_authentication` integer not null default false, `token_ttl_seconds` integer not null default 300, `created_at` datetime not null, primary key (`id`));");
    this.addSql("create unique index `projects_secret_hash_unique` on `projects` (`secret_hash`);");
    this.addSql("create unique index `projects_public_token_hash_unique` on `projects` (`public_token_hash`);");
    this.addSql("create table `sessions` (`id` text not null, `project_id` text not null, `user_id` text not null, `impersonator_id` text not null, `impersonator_email` text not null, `token_hash` text not null, `impersonation_token_id` text not null, `started_at` datetime not null, `last_accessed_at` datetime not null, `expires_at` datetime not null, `revoked_at` datetime null, primary key (`id`));");
    this.addSql("create index `sessions_user_id_index` on `sessions` (`user_id`);");
    this.addSql("create index `sessions_impersonator_id_index` on `sessions` (`impersonator_id`);");
    this.addSql("create unique index `sessions_token_hash_unique` on `sessions` (`token_hash`);");
    this.addSql("create unique index `sessions_impersonation_token_id_unique` on `sessions` (`impersonation_token_id`);");
    this.addSql("create index `sessions_project_id_started_at_index` on `sessions` (`project_id`, `started_at`);");
    this.addSql("create table `signing_keys` (`kid` text not null, `alg` text not null, `public_jwk` text not null, `private_jwk` text not null, `created_at` datetime not null, `retired_at` datetime null, primary key (`kid`));");
    this.addSql("create table `team_members` (`id` text not null, `email` text not null, `name` text null, `role` text check (`role` in ('ADMIN', 'DEVELOPER', 'SUPPORT_MANAGER', 'VIEWER')) not null, `disabled` integer not null default false, `created_at` datetime not null, primary key (`id`));");
    this.addSql("create unique index `team_members_email_unique` on `team_members` (`email`);");
    this.addSql("create table `users` (`id` text not null, `project_id` text not null, `email` text not null, `name` text null, `created_at` datetime not null, primary key (`id`));");
    this.addSql("create index `users_project_id_index` on `users` (`project_id`);");
    this.addSql("create unique index `users_project_id_email_unique` on `users` (`project_id`, `email`);");
    this.addSql("create table `webhook_attempts` (`id` text not null, `delivery_id` text not null, `attempt_number` integer not null, `started_at` datetime not null, `duration_ms` integer not null, `status_code` integer null, `error` text null, `success` integer not null, primary key (`id`));");
    this.addSql("create index `webhook_attempts_delivery_id_index` on `webhook_attempts` (`delivery_id`);");
    this.addSql("create table `webhook_deliveries` (`id` text not null, `endpoint_id` text not null, `project_id` text not null, `audit_event_id` text not null, `event_type` text not null, `payload` text not null, `status` text not null default 'PENDING', `attempt_count` integer not null default 0, `next_attempt_at` datetime null, `claimed_until` datetime null, `last_error` text null, `created_at` datetime not null, `completed_at` datetime null, primary key (`id`));");
    this.addSql("create index `webhook_deliveries_endpoint_id_index` on `webhook_deliveries` (`endpoint_id`);");
    this.addSql("create index `webhook_deliveries_status_next_attempt_at_index` on `webhook_deliveries` (`status`, `next_attempt_at`);");
    this.addSql("create unique index `webhook_deliveries_endpoint_id_audit_event_id_unique` on `webhook_deliveries` (`endpoint_id`, `audit_event_id`);");
    this.addSql("create table `webhook_endpoints` (`id` text not null, `project_id` text not null, `url` text not null, `event_types` json not null, `enabled` integer not null default true, `secret` text not null, `previous_secret` text null, `previous_secret_expires_at` datetime null, `created_at` datetime not null, primary key (`id`));");
    this.addSql("create index `webhook_endpoints_project_id_index` on `webhook_endpoints` (`project_id`);");
  }
}
