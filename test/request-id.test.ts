import { print } from "graphql";
import { describe, expect, it } from "vitest";
import { CreateUserDocument, TypenameDocument } from "./__generated__/graphql.js";
import { credentialHeaders, type Credential } from "./harness/client.js";
import { useTestWorld } from "./harness/test-world.js";
import { waitUntil } from "./harness/ws-client.js";
import { createLogger } from "../src/log/logger.js";

/**
 * SPEC §10: every /graphql response carries `x-request-id`, including the ones refused before an
 * operation runs (413, a member key from another origin's page, input no database can store,
 * Apollo's own refusals before its pipeline), and each refusal gets its one access line, carrying
 * that id and nothing of the request.
 */
const written: string[] = [];
const logger = createLogger("info", { write: (line: string) => void written.push(line) });
const { t, world } = useTestWorld({ app: { logger } });

type Line = Record<string, unknown>;
const accessLines = (): Line[] =>
  written
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Line)
    .filter((line) => line.msg === "graphql operation");

/** The access lines of one request id, once the first one is written. */
async function linesOf(requestId: string): Promise<Line[]> {
  await waitUntil(() => accessLines().some((line) => line.requestId === requestId), `the access line of ${requestId}`);
  return accessLines().filter((line) => line.requestId === requestId);
}

function post(body: string, headers: Record<string, string> = {}, credential?: Credential): Promise<Response> {
  return fetch(t.url, { method: "POST", headers: { "content-type": "application/json", ...(credential ? credentialHeaders(credential) : {}), ...headers }, body });
}

const createUser = (email: string) => JSON.stringify({ query: print(CreateUserDocument), variables: { input: { projectId: world.projectId, email } } });

/** Asserts the refusal's answer, its `x-request-id`, and its one access line; returns the id. */
async function expectRefusal(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
  expect(body.errors[0]!.extensions.code).toBe(code);
  const requestId = response.headers.get("x-request-id");
  expect(requestId, `x-request-id of the ${status}`).toMatch(/^request-[0-9a-f-]{36}$/);
  const lines = await linesOf(requestId!);
  expect(lines).toEqual([
    expect.objectContaining({ level: "info", transport: "http", requestId, operationName: null, actor: null, outcome: code, status, durationMs: expect.any(Number) }),
  ]);
  return requestId!;
}

describe("x-request-id and the access line of /graphql refusals", () => {
  it("a body over MAX_BODY_BYTES: 413", async () => {
    const response = await post(JSON.stringify({ query: print(TypenameDocument), variables: { pad: "x".repeat(1_100_000) } }));
    await expectRefusal(response, 413, "PAYLOAD_TOO_LARGE");
  });

  it("a member key or the project secret from another origin's page: 401, without the credential in the log", async () => {
    for (const credential of [world.admin.credential, world.backend]) {
      const response = await post(createUser("cross-origin@customer.com"), { origin: "https://evil.example.org" }, credential);
      await expectRefusal(response, 401, "UNAUTHENTICATED");
    }
    const log = written.join("");
    expect(log).not.toContain(world.admin.apiKey);
    expect(log).not.toContain(world.projectSecret);
    expect(log).not.toContain("cross-origin@customer.com");
  });

  it("input no database can store, a body that is not JSON, and one that is not UTF-8: 400", async () => {
    await expectRefusal(await post(createUser("nul\u0000@customer.com"), {}, world.admin.credential), 400, "BAD_USER_INPUT");
    await expectRefusal(await post('{"query": "{ __typename }"', {}, world.admin.credential), 400, "BAD_REQUEST");
    const notUtf8 = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]) });
    await expectRefusal(notUtf8, 400, "BAD_USER_INPUT");
    expect(written.join("")).not.toContain("nul\\u0000@customer.com");
  });

  it("Apollo's refusals before its pipeline: the CSRF check, a batch", async () => {
    const csrf = await post(JSON.stringify({ query: print(TypenameDocument) }), { "content-type": "text/plain" });
    await expectRefusal(csrf, 400, "BAD_REQUEST");
    const get = await fetch(`${t.url}?query=${encodeURIComponent("{ __typename }")}`);
    await expectRefusal(get, 400, "BAD_REQUEST");
    await expectRefusal(await post(JSON.stringify([{ query: print(TypenameDocument) }])), 400, "BAD_REQUEST");
  });

  it("an operation that reaches Apollo keeps its one access line, with the header's id (no second line from the refusal path)", async () => {
    const refused = await post(JSON.stringify({ query: "{ nope }" }));
    expect(refused.status).toBe(400);
    const requestId = refused.headers.get("x-request-id")!;
    expect(await linesOf(requestId)).toEqual([expect.objectContaining({ requestId, actor: "anonymous", outcome: "GRAPHQL_VALIDATION_FAILED", status: 400 })]);

    const ok = await post(JSON.stringify({ query: print(TypenameDocument) }));
    expect(ok.status).toBe(200);
    const okId = ok.headers.get("x-request-id")!;
    expect(await linesOf(okId)).toEqual([expect.objectContaining({ requestId: okId, actor: "anonymous", outcome: "OK", status: 200 })]);
  });

  it("every /graphql answer has an id of its own, a CORS preflight included (which is no operation: no access line)", async () => {
    const preflight = await fetch(t.url, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("x-request-id")).toMatch(/^request-/);
    const ids = await Promise.all(Array.from({ length: 5 }, () => post(JSON.stringify({ query: print(TypenameDocument) })).then((response) => response.headers.get("x-request-id"))));
    expect(new Set([...ids, preflight.headers.get("x-request-id")]).size).toBe(6);
    await linesOf(ids[4]!);
    expect(accessLines().some((line) => line.requestId === preflight.headers.get("x-request-id"))).toBe(false);
  });
});
