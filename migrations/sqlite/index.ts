import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261125000000Init } from "./Migration20261125000000Init.js";
import { Migration20261202000000UserProtectedExternalId } from "./Migration20261202000000UserProtectedExternalId.js";
import { Migration20261202100000ProjectSessionLimit } from "./Migration20261202100000ProjectSessionLimit.js";
import { Migration20261203000000ModesApprovals } from "./Migration20261203000000ModesApprovals.js";

/** Applied in order; the name is what the migrations table records. */
export const sqliteMigrations: MigrationObject[] = [
  { name: "Migration20261125000000Init", class: Migration20261125000000Init },
  { name: "Migration20261202000000UserProtectedExternalId", class: Migration20261202000000UserProtectedExternalId },
  { name: "Migration20261202100000ProjectSessionLimit", class: Migration20261202100000ProjectSessionLimit },
  { name: "Migration20261203000000ModesApprovals", class: Migration20261203000000ModesApprovals },
];
