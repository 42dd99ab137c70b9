import { Migration } from "@mikro-orm/migrations";

/** Projects: `max_active_sessions_per_impersonator` (null: no limit), checked when a token is exchanged. */
export class Migration20261202100000ProjectSessionLimit extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table \"projects\" add column \"max_active_sessions_per_impersonator\" int null;");
  }
}
