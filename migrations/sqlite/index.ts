import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261125000000Init } from "./Migration20261125000000Init.js";

/** Applied in order; the name is what the migrations table records. */
export const sqliteMigrations: MigrationObject[] = [{ name: "Migration20261125000000Init", class: Migration20261125000000Init }];
