import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuditEventAddedDocument,
  AuditEventsDocument,
  AuthenticateSessionDocument,
  AuthenticateTokenDocument,
  CreateImpersonationTokenDocument,
  CreateTeamMemberDocument,
  CreateUserDocument,
  RevokeSessionDocument,
  SetImpersonationPolicyDocument,
  TypenameDocument,
} from "./__generated__/graphql.js";
import { DriverException } from "@mikro-orm/core";
import { createLogger } from "../src/log/logger.js";
import { buildIntoTempDir } from "./harness/build.js";
import { anonymous, asBackend, asFrontend, asMember, gql, type Credential, type GraphQLResponse } from "./harness/client.js";
import { freshDatabaseUrl, type FreshDatabase } from "./harness/databases.js";
import { connectWs, waitUntil, within } from "./harness/ws-client.js";

/**
 * SPEC §10: the built server in a process of its own logs one JSON object per line on stderr,
 * honours LOG_LEVEL, writes one access line per GraphQL operation whose requestId is the audit
 * event's and the `x-request-id` header, and never logs a key, secret, token, JWT or variable value.
 */
const run = promisify(execFile);
let build: Awaited<ReturnType<typeof buildIntoTempDir>> | undefined;
let database: FreshDatabase;
let boot: { adminApiKey: string; projectId: string; projectSecret: string; publicToken: string };

beforeAll(async () => {
  build = await buildIntoTempDir("masquerade-logs-build-", join("src", "main.js"));
  database = await freshDatabaseUrl();
  const { stdout } = await run(process.execPath, [join(build.path, "scripts", "bootstrap.js"), "--admin-email", "admin@example.com", "--project", "Logs", "--redirect-url", "https://app.example.com/auth", "--json"], {
    env: { PATH: process.env.PATH, DATABASE_URL: database.url },
    timeout: 60_000,
  });
  boot = JSON.parse(stdout.trim().split("\n").pop()!);
}, 120_000);
afterAll(async () => {
  await database?.drop();
  build?.remove();
});

interface Server {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts the built server at LOG_LEVEL on a free port; resolves once /healthz answers. */
async function startServer(logLevel: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [build!.entry], {
    env: { PATH: process.env.PATH, NODE_ENV: "development", PORT: String(port), DATABASE_URL: database.url, LOG_LEVEL: logLevel, AUDIT_LOG_FILE: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve((exitCode = code))));
  await waitUntil(
    async () => {
      if (exitCode !== undefined) throw new Error(`the server exited (${exitCode}):\n${stderr}`);
      return fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.ok, () => false);
    },
    "the server answers /healthz",
    60_000,
  );
  return { child, port, stderr: () => stderr, exited };
}

async function stop(server: Server): Promise<void> {
  server.child.kill("SIGTERM");
  expect(await within(server.exited, 30_000, "the server exits")).toBe(0);
}

type LogLine = Record<string, unknown> & { level: string; msg: string };

/** Every stderr line, parsed; fails on a line that is not a JSON object. */
function parseLines(stderr: string): LogLine[] {
  return stderr
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`a stderr line is not JSON: ${line}`);
      }
      expect(parsed, line).toBeTypeOf("object");
      expect(parsed).toMatchObject({ level: expect.any(String), msg: expect.any(String), time: expect.any(String) });
      return parsed as LogLine;
    });
}

const accessLines = (lines: LogLine[]) => lines.filter((line) => line.msg === "graphql operation");

describe("LOG_LEVEL=trace, the whole flow", () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer("trace");
  }, 90_000);
  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill("SIGKILL");
  });

  it("writes JSON lines only, one access line per operation, and nothing secret", async () => {
    const url = `http://127.0.0.1:${server.port}/graphql`;
    const admin = asMember(boot.adminApiKey);
    const backend = asBackend(boot.projectId, boot.projectSecret);
    const sent: Array<{ operationName: string; actor: string; outcome: string; requestId: string }> = [];
    /** Every value sent: none may appear in a log line. */
    const secrets: string[] = [boot.adminApiKey, boot.projectSecret, boot.publicToken];
    const send = async <T,>(credential: Credential, actor: string, document: TypedDocumentNode<T, any>, operationName: string, variables?: Record<string, unknown>) => {
      const response: GraphQLResponse<T> = await gql(url, credential, document, variables);
      const requestId = response.headers.get("x-request-id");
      expect(requestId, operationName).toMatch(/^request-/);
      sent.push({ operationName, actor, outcome: response.errors?.[0]?.extensions?.code ?? "OK", requestId: requestId! });
      return response;
    };
    const reason = "Customer cannot see invoice 4711-logs";
    const memberEmail = "support-logs@example.com";
    const userEmail = "jane-logs@customer.com";
    secrets.push(reason, memberEmail, userEmail, "Jane Logsworth");

    const before = (await send(admin, "member", AuditEventsDocument, "AuditEvents", { projectId: boot.projectId, first: 100 })).data!.auditEvents.edges.map((edge) => edge.node.id);
    await send(admin, "member", SetImpersonationPolicyDocument, "SetImpersonationPolicy", { projectId: boot.projectId, input: { allowImpersonation: true, allowFrontendAuthentication: true } });
    const member = (await send(admin, "member", CreateTeamMemberDocument, "CreateTeamMember", { input: { email: memberEmail, role: "SUPPORT_MANAGER", name: "Support" } })).data!.createTeamMember;
    secrets.push(member.apiKey);
    const support = asMember(member.apiKey);
    const userId = (await send(admin, "member", CreateUserDocument, "CreateUser", { input: { projectId: boot.projectId, email: userEmail, name: "Jane Logsworth" } })).data!.createUser.id;

    // A live subscription (WebSocket) that sees the token's event.
    const ws = connectWs(`ws://127.0.0.1:${server.port}/graphql`, admin);
    const subscription = ws.subscribe(AuditEventAddedDocument, { projectId: boot.projectId });
    await waitUntil(() => server.stderr().includes("a project's stream is live"), "the subscription is live", 15_000);

    const { token } = (await send(support, "member", CreateImpersonationTokenDocument, "CreateImpersonationToken", { input: { projectId: boot.projectId, userId, reason } })).data!.createImpersonationToken;
    secrets.push(token);
    const event = await subscription.next(15_000);
    expect(event.data?.auditEventAdded.reason).toBe(reason);
    subscription.unsubscribe();
    // Refused before it runs (input no database can store): an access line without an actor.
    const refused = ws.subscribe(AuditEventAddedDocument, { projectId: "a\u0000b" });
    expect((await within(refused.ended, 15_000, "the refusal")).kind).toBe("error");
    await ws.close();

    const exchanged = (await send(backend, "backend", AuthenticateTokenDocument, "AuthenticateToken", { token })).data!.authenticateImpersonationToken;
    secrets.push(exchanged.sessionToken, exchanged.sessionJwt);
    const byToken = (await send(backend, "backend", AuthenticateSessionDocument, "AuthenticateSession", { sessionToken: exchanged.sessionToken })).data!.authenticateSession;
    const byJwt = (await send(asFrontend(boot.publicToken), "frontend", AuthenticateSessionDocument, "AuthenticateSession", { sessionJwt: exchanged.sessionJwt })).data!.authenticateSession;
    secrets.push(byToken.sessionJwt, byJwt.sessionJwt);
    await send(support, "member", RevokeSessionDocument, "RevokeSession", { sessionToken: exchanged.sessionToken });
    // Failing calls: a token used twice, a wrong key, no credential.
    expect((await send(backend, "backend", AuthenticateTokenDocument, "AuthenticateToken", { token })).errors?.[0]?.extensions?.code).toBe("IMPERSONATION_TOKEN_ALREADY_USED");
    const wrongKey = "mq_key_thisisnotarealkeybutlookslikeone";
    secrets.push(wrongKey);
    expect((await send(asMember(wrongKey), "invalid", CreateUserDocument, "CreateUser", { input: { projectId: boot.projectId, email: "x-logs@customer.com" } })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    secrets.push("x-logs@customer.com");
    await send(anonymous, "anonymous", TypenameDocument, "Typename");
    const events = (await send(admin, "member", AuditEventsDocument, "AuditEvents", { projectId: boot.projectId, first: 100 })).data!.auditEvents.edges.map((edge) => edge.node);

    await waitUntil(() => accessLines(parseLines(server.stderr())).length === sent.length + 2, "every access line is written", 15_000);
    await stop(server);
    const stderr = server.stderr();
    const lines = parseLines(stderr);
    for (const secret of secrets) expect(stderr, "a secret or variable value in the log").not.toContain(secret);
    expect(stderr).not.toMatch(/mq_(key|secret|public|imp|sess)_|eyJ[A-Za-z0-9_-]+\.eyJ/);
    expect(stderr).not.toMatch(/\b(select|insert into|update \w+ set)\b/i);
    expect(lines.some((line) => line.msg.includes("listening on http://localhost:"))).toBe(true);
    expect(lines.filter((line) => line.level === "error" || line.level === "fatal")).toEqual([]);

    const access = accessLines(lines);
    const http = access.filter((line) => line.transport === "http");
    expect(http.map(({ operationName, actor, outcome, requestId }) => ({ operationName, actor, outcome, requestId }))).toEqual(sent);
    for (const line of http) {
      expect(line.level).toBe("info");
      expect(line.durationMs).toBeTypeOf("number");
      expect(line.status).toBe(200);
    }
    const wsLines = access.filter((line) => line.transport === "ws");
    expect(wsLines).toHaveLength(2);
    expect(wsLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operationName: "AuditEventAdded", actor: "member", outcome: "OK", requestId: expect.stringMatching(/^request-/) }),
        // Its document was never parsed, and graphql-ws's client sends no operationName: no name.
        expect.objectContaining({ operationName: null, actor: null, outcome: "BAD_USER_INPUT", requestId: expect.stringMatching(/^request-/) }),
      ]),
    );
    for (const line of wsLines) expect(sent.map((call) => call.requestId)).not.toContain(line.requestId);

    // Each audit event of the flow carries the requestId of the operation that caused it.
    const operationOf = new Map(sent.map((call) => [call.requestId, call.operationName]));
    const audited = events.filter((node) => !before.includes(node.id)).map((node) => [node.action, node.status, operationOf.get(node.requestId!)]);
    expect(audited.sort()).toEqual(
      [
        ["SetImpersonationPolicy", "SUCCESS", "SetImpersonationPolicy"],
        ["CreateImpersonationToken", "SUCCESS", "CreateImpersonationToken"],
        ["AuthenticateImpersonationToken", "SUCCESS", "AuthenticateToken"],
        ["RevokeSession", "SUCCESS", "RevokeSession"],
        ["AuthenticateImpersonationToken", "FAILURE", "AuthenticateToken"],
      ].sort(),
    );
  }, 120_000);
});

describe.each(["warn", "silent"])("LOG_LEVEL=%s", (level) => {
  it(level === "warn" ? "hides the info lines (access lines, start and stop)" : "prints nothing at all", async () => {
    const server = await startServer(level);
    const url = `http://127.0.0.1:${server.port}/graphql`;
    expect((await gql(url, anonymous, TypenameDocument)).data).toEqual({ __typename: "Query" });
    expect((await gql(url, asMember("mq_key_wrong"), CreateUserDocument, { input: { projectId: boot.projectId, email: "w@customer.com" } })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    await stop(server);
    if (level === "silent") expect(server.stderr()).toBe("");
    else expect(parseLines(server.stderr()).filter((line) => !["warn", "error", "fatal"].includes(line.level))).toEqual([]);
  }, 90_000);
});

describe("an unexpected error in the log", () => {
  it("is one JSON line, its stack in err, without the failed statement, a token or a redacted key's value", () => {
    const written: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void written.push(line) });
    const cause = new Error("insert into users (email) values ('jane@customer.com') - UNIQUE constraint failed: users.email");
    const failure = new DriverException(cause);
    logger.error({ err: failure, headers: { authorization: "Bearer mq_key_abc", "x-public-token": "mq_public_abc" }, variables: { reason: "private" } }, "unexpected error");
    logger.error({ err: new Error("token mq_imp_abcdef was refused; eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln") }, "unexpected error");
    expect(written.join("").trimEnd().split("\n")).toHaveLength(2);
    const [first, second] = written.map((line) => JSON.parse(line));
    expect(first).toMatchObject({ level: "error", msg: "unexpected error", err: { type: "DriverException", message: "(statement omitted) - UNIQUE constraint failed: users.email" } });
    expect(first.err.stack).toMatch(/^DriverException: \(statement omitted\) - UNIQUE constraint failed: users.email\n\s+at /);
    expect(first.headers).toEqual({ authorization: "[redacted]", "x-public-token": "[redacted]" });
    expect(first.variables).toBe("[redacted]");
    expect(second.err.message).toBe("token [redacted] was refused; [redacted]");
    expect(written.join("")).not.toMatch(/jane@customer|mq_key_abc|mq_public_abc|private|mq_imp_abcdef|eyJ/);
  });
});
