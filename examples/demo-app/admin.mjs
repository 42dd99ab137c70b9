/**
 * The staff side of the walkthrough, without writing GraphQL: the typed documents of
 * @masquerade/client/operations, sent with the admin's API key from bootstrap.json.
 *
 *   node admin.mjs setup  --credentials bootstrap.json
 *       turns impersonation and frontend authentication on, and creates the user jane@example.com
 *   node admin.mjs launch --credentials bootstrap.json [--email jane@example.com] [--mode READ_ONLY] [--reason "…"]
 *       creates an impersonation token for that user and prints its launch URL
 *
 * MASQUERADE_URL names the server (default http://localhost:4000).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { print } from "graphql";
import { CreateImpersonationTokenDocument, CreateUserDocument, SetImpersonationPolicyDocument, UsersDocument } from "@masquerade/client/operations";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    credentials: { type: "string", default: "bootstrap.json" },
    email: { type: "string", default: "jane@example.com" },
    mode: { type: "string" },
    reason: { type: "string", default: "Walkthrough: see what the customer sees" },
  },
});
const [command] = positionals;
const credentials = JSON.parse(readFileSync(values.credentials, "utf8"));
const url = new URL("/graphql", process.env.MASQUERADE_URL || "http://localhost:4000").toString();

/** One typed operation, as the ADMIN of bootstrap.json. */
async function send(document, variables) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${credentials.adminApiKey}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = await response.json();
  if (body.errors?.length) {
    const [error] = body.errors;
    throw Object.assign(new Error(`${error.extensions?.code ?? "ERROR"}: ${error.message}`), { code: error.extensions?.code });
  }
  return body.data;
}

async function findUser(email) {
  const { users } = await send(UsersDocument, { projectId: credentials.projectId, search: email, first: 10 });
  return users.edges.map((edge) => edge.node).find((user) => user.email === email) ?? null;
}

async function setup() {
  await send(SetImpersonationPolicyDocument, { projectId: credentials.projectId, input: { allowImpersonation: true, allowFrontendAuthentication: true } });
  const user = (await findUser(values.email)) ?? (await send(CreateUserDocument, { input: { projectId: credentials.projectId, email: values.email, name: "Jane Doe" } })).createUser;
  console.log(JSON.stringify({ impersonation: "on", frontendAuthentication: "on", user: { id: user.id, email: user.email } }));
}

async function launch() {
  const user = await findUser(values.email);
  if (!user) throw new Error(`no user ${values.email} in the project: run "node admin.mjs setup" first`);
  const input = { projectId: credentials.projectId, userId: user.id, reason: values.reason, ...(values.mode ? { mode: values.mode } : {}) };
  const { createImpersonationToken } = await send(CreateImpersonationTokenDocument, { input });
  console.log(JSON.stringify({ launchUrl: createImpersonationToken.launchUrl, expiresAt: createImpersonationToken.expiresAt }));
  console.log(`Open this within ${Math.round((new Date(createImpersonationToken.expiresAt) - Date.now()) / 1000)} s, once: ${createImpersonationToken.launchUrl}`);
}

try {
  if (command === "setup") await setup();
  else if (command === "launch") await launch();
  else throw new Error('say "setup" or "launch" (see the top of admin.mjs)');
} catch (error) {
  console.error(`admin.mjs: ${error.message}`);
  process.exit(1);
}
