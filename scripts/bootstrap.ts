import "reflect-metadata";
import { parseArgs } from "node:util";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config.js";
import { createOrm } from "../src/db/orm.js";
import { redactUrl, SettingError } from "../src/errors/setting-error.js";
import { bootstrap, BootstrapRefused } from "../src/modules/bootstrap/bootstrap.service.js";
import { defaultLoginRedirectUrl } from "../src/modules/projects/project.service.js";

const usage = `Usage: npm run bootstrap -- --admin-email <email> --project <name> [--redirect-url <url>] [--json]

Creates the first ADMIN team member and a first project in the database DATABASE_URL names
(default sqlite:./data/masquerade.sqlite). Refuses if the database is already bootstrapped.`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        "admin-email": { type: "string" },
        project: { type: "string" },
        "redirect-url": { type: "string", default: defaultLoginRedirectUrl },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values["admin-email"] || !values.project) {
    console.error(`--admin-email and --project are required.\n\n${usage}`);
    return 2;
  }
  let config, orm;
  try {
    config = loadConfig();
    orm = await createOrm({ databaseUrl: config.databaseUrl });
  } catch (error) {
    // A bad setting or an unreachable database: one line, as the server says it (src/main.ts).
    if (!(error instanceof SettingError)) throw error;
    console.error(`Bootstrap cannot start: ${error.message}`);
    return 1;
  }
  try {
    const result = await bootstrap(orm.em.fork(), systemClock, {
      adminEmail: values["admin-email"],
      projectName: values.project,
      loginRedirectUrl: values["redirect-url"],
    });
    if (values.json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(`Bootstrapped ${config.databaseUrl.startsWith("sqlite:") ? config.databaseUrl : redactUrl(config.databaseUrl)}. These secrets are shown only once:\n`);
      console.log(`  ADMIN member id:   ${result.adminMemberId}`);
      console.log(`  ADMIN API key:     ${result.adminApiKey}   (Authorization: Bearer <key>)`);
      console.log(`  project id:        ${result.projectId}`);
      console.log(`  project secret:    ${result.projectSecret}   (Authorization: Basic base64(<projectId>:<secret>))`);
      console.log(`  public token:      ${result.publicToken}   (X-Public-Token)`);
    }
    return 0;
  } catch (error) {
    if (error instanceof BootstrapRefused) {
      console.error(error.message);
      return 1;
    }
    console.error(`Bootstrap failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    await orm.close(true);
  }
}

process.exitCode = await main();
