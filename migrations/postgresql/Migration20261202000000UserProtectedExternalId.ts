import { Migration } from "@mikro-orm/migrations";

/** Users: `protected` (never impersonated without an approval) and `external_id` (the application's own id, unique per project). */
export class Migration20261202000000UserProtectedExternalId extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table \"users\" add column \"protected\" boolean not null default false, add column \"external_id\" varchar(256) null;");
    this.addSql("alter table \"users\" add constraint \"users_project_id_external_id_unique\" unique (\"project_id\", \"external_id\");");
  }
}
