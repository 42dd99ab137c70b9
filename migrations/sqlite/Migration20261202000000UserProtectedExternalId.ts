import { Migration } from "@mikro-orm/migrations";

/** Users: `protected` (never impersonated without an approval) and `external_id` (the application's own id, unique per project). */
export class Migration20261202000000UserProtectedExternalId extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table `users` add column `protected` integer not null default false;");
    this.addSql("alter table `users` add column `external_id` text null;");
    this.addSql("create unique index `users_project_id_external_id_unique` on `users` (`project_id`, `external_id`);");
  }
}
