import "reflect-metadata";
import { parseArgs } from "node:util";
import { systemClock } from "../src/clock.js";
import { loadConfig, type Config } from "../src/config.js";
import { databaseOf } from "../src/db/database-of.js";
import { createOrm } from "../src/db/orm.js";
import { SettingError } from "../src/errors/setting-error.js";
import { bootstrap, BootstrapRefused, type BootstrapResult } from "../src/modules/bootstrap/bootstrap.service.js";
import { CredentialsFile, CredentialsFileRefused } from "../src/modules/bootstrap/credentials-file.js";
import { defaultLoginRedirectUrl } from "../src/modules/projects/project.service.js";
import { createInProcessPubSub } from "../src/pubsub/pubsub.js";
import { buildServices } from "../src/services.js";

const usage = `Usage: npm run bootstrap -- --admin-email <email> --project <name> [--redirect-url <url>] [--out <file> | --json]

Creates the first ADMIN team member and a first project in the database DATABASE_URL names
(default sqlite:./data/masquerade.sqlite). Refuses if the database is already bootstrapped.

  --out <file>  write the credentials as one JSON object to <file>, a new file created with mode
                0600 (a relative path is relative to the working directory, which npm run makes
                the project directory); refuses, before touching the database, if <file> exists.
                Nothing secret is printed.
  --json        print the credentials as one JSON object on the last line of stdout.`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        "admin-email": { type: "string" },
        project: { type: "string" },
        "redirect-url": { type: "string", default: defaultLoginRedirectUrl },
        out: { type: "string" },
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
  if (values.out !== undefined && values.json) {
    console.error(`--out writes the credentials to a file and --json prints them: choose one.\n\n${usage}`);
    return 2;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    // A bad setting: one line, as the server says it (src/main.ts).
    if (!(error instanceof SettingError)) throw error;
    console.error(`Bootstrap cannot start: ${error.message}`);
    return 1;
  }

  // The file first: a run that could not keep the secrets must not create them.
  let outFile: CredentialsFile | undefined;
  if (values.out !== undefined) {
    try {
      outFile = await CredentialsFile.create(values.out);
    } catch (error) {
      console.error(error instanceof CredentialsFileRefused ? error.message : `Cannot create ${values.out}: ${error}`);
      return 1;
    }
  }

  let result: BootstrapResult;
  try {
    const orm = await createOrm({ databaseUrl: config.databaseUrl });
    try {
      // Built, not started: bootstrap loads no signing key, starts no timer and writes no audit
      // event (so it opens no AUDIT_LOG_FILE either).
      const { members, projects } = buildServices({
        orm,
        clock: systemClock,
        config: { ...config, auditLogFile: undefined },
        pubsub: createInProcessPubSub(),
        publicUrl: () => config.publicUrl ?? "",
      });
      result = await bootstrap({ db: databaseOf(orm.em), members, projects }, {
        adminEmail: values["admin-email"],
        projectName: values.project,
        loginRedirectUrl: values["redirect-url"],
      });
    } finally {
      await orm.close(true);
    }
  } catch (error) {
    await outFile?.discard();
    console.error(error instanceof BootstrapRefused ? error.message : `Bootstrap failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  }

  const where = withoutPassword(config.databaseUrl);
  if (outFile) {
    try {
      await outFile.write(`${JSON.stringify(result)}\n`);
    } catch (error) {
      // The database is bootstrapped and these secrets exist nowhere else: printing them is the
      // only way not to lose them (a rerun would refuse).
      const removed = await outFile.discard();
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      console.error(
        `Bootstrapped ${where}, but writing ${outFile.path} failed (${code})${removed ? "" : `; remove the partial ${outFile.path}`}. ` +
          "The credentials are printed on stdout instead, as its last line: save them now, they are shown only once.",
      );
      console.log(JSON.stringify(result));
      return 1;
    }
    console.log(`Bootstrapped ${where}. The credentials are in ${outFile.path} (mode 0600), and shown nowhere else: keep that file safe.`);
    return 0;
  }
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`Bootstrapped ${where}. These secrets are shown only once:\n`);
    console.log(`  ADMIN member id:   ${result.adminMemberId}`);
    console.log(`  ADMIN API key:     ${result.adminApiKey}   (Authorization: Bearer <key>)`);
    console.log(`  project id:        ${result.projectId}`);
    console.log(`  project secret:    ${result.projectSecret}   (Authorization: Basic base64(<projectId>:<secret>))`);
    console.log(`  public token:      ${result.publicToken}   (X-Public-Token)`);
  }
  return 0;
}

/** DATABASE_URL as it may be shown: a PostgreSQL password masked. */
function withoutPassword(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (!url.password) return databaseUrl;
    url.password = "***";
    return url.toString();
  } catch {
    return databaseUrl;
  }
}

process.exitCode = await main();
