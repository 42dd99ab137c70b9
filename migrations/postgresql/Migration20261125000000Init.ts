import { Migration } from "@mikro-orm/migrations";

/** The initial schema. Generated from the entities, then frozen: later changes get new migrations. */
export class Migration20261125000000Init extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table \"member_api_keys\" (\"id\" varchar(64) not null, \"member_id\" varchar(64) not null, \"key_hash\" varchar(64) not null, \"created_at\" timestamptz not null, constraint \"member_api_keys_pkey\" primary key (\"id\"));");
    this.addSql("create index \"member_api_keys_member_id_index\" on \"member_api_keys\" (\"member_id\");");
    this.addSql("alter table \"member_api_keys\" add constraint \"member_api_keys_key_hash_unique\" unique (\"key_hash\");");
    this.addSql("create table \"audit_events\" (\"id\" varchar(64) not null, \"project_id\" varchar(64) not null, \"seq\" int not null, \"action\" varchar(64) not null, \"event_type\" varchar(64) null, \"status\" varchar(16) not null, \"error_code\" varchar(64) null, \"request_id\" varchar(64) not null, \"user_id\" varchar(64) null, \"impersonator_id\" varchar(64) null, \"impersonator_email\" varchar(320) null, \"reason\" varchar(500) null, \"session_id\" varchar(64) null, \"ip_address\" varchar(64) null, \"user_agent\" varchar(512) null, \"actor_type\" varchar(16) not null, \"actor_id\" varchar(64) null, \"details\" text null, \"created_at\" timestamptz not null, \"prev_hash\" varchar(64) not null, \"hash\" varchar(64) not null, constraint \"audit_events_pkey\" primary key (\"id\"));");
    this.addSql("create index \"audit_events_project_id_created_at_index\" on \"audit_events\" (\"project_id\", \"created_at\");");
    this.addSql("alter table \"audit_events\" add constraint \"audit_events_project_id_seq_unique\" unique (\"project_id\", \"seq\");");
    this.addSql("create table \"impersonation_tokens\" (\"id\" varchar(64) not null, \"project_id\" varchar(64) not null, \"user_id\" varchar(64) not null, \"impersonator_id\" varchar(64) not null, \"impersonator_email\" varchar(320) not null, \"reason\" varchar(500) not null, \"token_hash\" varchar(64) not null, \"created_at\" timestamptz not null, \"expires_at\" timestamptz not null, \"used_at\" timestamptz null, \"voided_at\" timestamptz null, constraint \"impersonation_tokens_pkey\" primary key (\"id\"));");
    this.addSql("create index \"impersonation_tokens_project_id_index\" on \"impersonation_tokens\" (\"project_id\");");
    this.addSql("create index \"impersonation_tokens_impersonator_id_index\" on \"impersonation_tokens\" (\"impersonator_id\");");
    this.addSql("alter table \"impersonation_tokens\" add constraint \"impersonation_tokens_token_hash_unique\" unique (\"token_hash\");");
    this.addSql("create table \"projects\" (\"id\" varchar(64) not null, \"name\" varchar(200) not null, \"login_redirect_url\" varchar(2048) not null, \"secret_hash\" varchar(64) not null, \"public_token_hash\" varchar(64) not null, \"allow_impersonation\" boolean not null default false, \"allow_frontend_authentication\" boolean not null default false, \"token_ttl_seconds\" int not null default 300, \"created_at\" timestamptz not null, constraint \"projects_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"projects\" add constraint \"projects_secret_hash_unique\" unique (\"secret_hash\");");
    this.addSql("alter table \"projects\" add constraint \"projects_public_token_hash_unique\" unique (\"public_token_hash\");");
    this.addSql("create table \"sessions\" (\"id\" varchar(64) not null, \"project_id\" varchar(64) not null, \"user_id\" varchar(64) not null, \"impersonator_id\" varchar(64) not null, \"impersonator_email\" varchar(320) not null, \"token_hash\" varchar(64) not null, \"impersonation_token_id\" varchar(64) not null, \"started_at\" timestamptz not null, \"last_accessed_at\" timestamptz not null, \"expires_at\" timestamptz not null, \"revoked_at\" timestamptz null, constraint \"sessions_pkey\" primary key (\"id\"));");
    this.addSql("create index \"sessions_user_id_index\" on \"sessions\" (\"user_id\");");
    this.addSql("create index \"sessions_impersonator_id_index\" on \"sessions\" (\"impersonator_id\");");
    this.addSql("alter table \"sessions\" add constraint \"sessions_token_hash_unique\" unique (\"token_hash\");");
    this.addSql("alter table \"sessions\" add constraint \"sessions_impersonation_token_id_unique\" unique (\"impersonation_token_id\");");
    this.addSql("create index \"sessions_project_id_started_at_index\" on \"sessions\" (\"project_id\", \"started_at\");");
    this.addSql("create table \"signing_keys\" (\"kid\" varchar(64) not null, \"alg\" varchar(16) not null, \"public_jwk\" text not null, \"private_jwk\" text not null, \"created_at\" timestamptz not null, \"retired_at\" timestamptz null, constraint \"signing_keys_pkey\" primary key (\"kid\"));");
    this.addSql("create table \"team_members\" (\"id\" varchar(64) not null, \"email\" varchar(320) not null, \"name\" varchar(200) null, \"role\" text check (\"role\" in ('ADMIN', 'DEVELOPER', 'SUPPORT_MANAGER', 'VIEWER')) not null, \"disabled\" boolean not null default false, \"created_at\" timestamptz not null, constraint \"team_members_pkey\" primary key (\"id\"));");
    this.addSql("alter table \"team_members\" add constraint \"team_members_email_unique\" unique (\"email\");");
    this.addSql("create table \"users\" (\"id\" varchar(64) not null, \"project_id\" varchar(64) not null, \"email\" varchar(320) not null, \"name\" varchar(200) null, \"created_at\" timestamptz not null, constraint \"users_pkey\" primary key (\"id\"));");
    this.addSql("create index \"users_project_id_index\" on \"users\" (\"project_id\");");
    this.addSql("alter table \"users\" add constraint \"users_project_id_email_unique\" unique (\"project_id\", \"email\");");
    this.addSql("create table \"webhook_attempts\" (\"id\" varchar(64) not null, \"delivery_id\" varchar(64) not null, \"attempt_number\" int not null, \"started_at\" timestamptz not null, \"duration_ms\" int not null, \"status_code\" int null, \"error\" text null, \"success\" boolean not null, constraint \"webhook_attempts_pkey\" primary key (\"id\"));");
    this.addSql("create index \"webhook_attempts_delivery_id_index\" on \"webhook_attempts\" (\"delivery_id\");");
    this.addSql("create table \"webhook_deliveries\" (\"id\" varchar(64) not null, \"endpoint_id\" varchar(64) not null, \"project_id\" varchar(64) not null, \"audit_event_id\" varchar(64) not null, \"event_type\" varchar(64) not null, \"payload\" text not null, \"status\" varchar(16) not null default 'PENDING', \"attempt_count\" int not null default 0, \"next_attempt_at\" timestamptz null, \"claimed_until\" timestamptz null, \"last_error\" text null, \"created_at\" timestamptz not null, \"completed_at\" timestamptz null, constraint \"webhook_deliveries_pkey\" primary key (\"id\"));");
    this.addSql("create index \"webhook_deliveries_endpoint_id_index\" on \"webhook_deliveries\" (\"endpoint_id\");");
    this.addSql("create index \"webhook_deliveries_status_next_attempt_at_index\" on \"webhook_deliveries\" (\"status\", \"next_attempt_at\");");
    this.addSql("alter table \"webhook_deliveries\" add constraint \"webhook_deliveries_endpoint_id_audit_event_id_unique\" unique (\"endpoint_id\", \"audit_event_id\");");
    this.addSql("create table \"webhook_endpoints\" (\"id\" varchar(64) not null, \"project_id\" varchar(64) not null, \"url\" varchar(2048) not null, \"event_types\" jsonb not null, \"enabled\" boolean not null default true, \"secret\" varchar(128) not null, \"previous_secret\" varchar(128) null, \"previous_secret_expires_at\" timestamptz null, \"created_at\" timestamptz not null, constraint \"webhook_endpoints_pkey\" primary key (\"id\"));");
    this.addSql("create index \"webhook_endpoints_project_id_index\" on \"webhook_endpoints\" (\"project_id\");");
  }
}
