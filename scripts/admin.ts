import "reflect-metadata";
import { parseArgs } from "node:util";
import { newId } from "../src/auth/secrets.js";
import { systemClock } from "../src/clock.js";
import { loadConfig, type Config } from "../src/config.js";
import { createOrm } from "../src/db/orm.js";
import { isAppError } from "../src/errors/app-error.js";
import { SettingError } from "../src/errors/setting-error.js";
import { createInProcessPubSub } from "../src/pubsub/pubsub.js";
import { buildServices } from "../src/services.js";

const usage = `Usage: npm run admin -- reset-key --email <admin email> [--json]

  reset-key   gives an existing, enabled ADMIN team member a new API key (for when the only admin
              key is lost); the old key stops working. Audited in the install-wide audit log as
              RotateTeamMemberApiKey by actor "cli". Uses the database DATABASE_URL names.
  --json      print {"memberId","apiKey"} as one JSON line.`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: { email: { type: "string" }, json: { type: "boolean", default: false }, help: { type: "boolean", default: false } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== "reset-key" || !values.email) {
    console.error(`Expected: reset-key --email <admin email>.\n\n${usage}`);
    return 2;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    console.error(`admin cannot start: ${error.message}`);
    return 1;
  }

  let result: { memberId: string; apiKey: string };
  try {
    const orm = await createOrm({ databaseUrl: config.databaseUrl });
    try {
      // Built, not started: no timer, no signing key. The event goes to the database only (the
      // server's AUDIT_LOG_FILE is the server's), and no webhook: the install-wide log has none.
      const { members } = buildServices({
        orm,
        clock: systemClock,
        config: { ...config, auditLogFile: undefined },
        pubsub: createInProcessPubSub(),
        publicUrl: () => config.publicUrl ?? "",
      });
      const caller = { actor: { kind: "cli" as const }, requestId: newId("request"), ipAddress: null, userAgent: "npm run admin" };
      const { member, apiKey } = await members.resetAdminKey(caller, values.email);
      result = { memberId: member.id, apiKey };
    } finally {
      await orm.close(true);
    }
  } catch (error) {
    console.error(isAppError(error) ? `reset-key refused: ${error.message}` : `reset-key failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  }

  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`New API key for ADMIN ${result.memberId} (the old one no longer works), shown only once:\n\n  ${result.apiKey}`);
  }
  return 0;
}

process.exitCode = await main();
