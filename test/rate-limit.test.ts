import { describe, expect, it } from "vitest";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { ExchangeTokenDocument, ImpersonationAllowedDocument } from "./__generated__/graphql.js";
import { asBackend, gql, type Credential } from "./harness/client.js";
import { issueToken } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";

const burst = 10;

const { t, world } = useTestWorld({ app: { env: { RATE_LIMIT_FAILURE_BURST: String(burst), RATE_LIMIT_FAILURE_REFILL_PER_SECOND: "1" } } });

async function codes<TVariables>(credential: Credential, query: TypedDocumentNode<unknown, TVariables>, variables: TVariables, count: number) {
  const results = await Promise.all(Array.from({ length: count }, () => gql(t.url, credential, query, variables)));
  return results.map((r) => (r.errors ? r.errors[0]!.extensions?.code : "OK"));
}

describe("rate limits on failures", () => {
  it("never limits an honest burst of 50 concurrent calls of one credential", async () => {
    const results = await codes(world.developer.credential, ImpersonationAllowedDocument, { projectId: world.projectId }, 50);
    expect(results).toEqual(Array(50).fill("OK"));
  });

  it("answers RATE_LIMITED once wrong credentials have spent the burst, and recovers with time", async () => {
    const wrong = asBackend(world.projectId, "mq_secret_wrong");
    const first = await codes(wrong, ImpersonationAllowedDocument, { projectId: world.projectId }, burst);
    expect(first).toEqual(Array(burst).fill("UNAUTHENTICATED"));
    expect(await codes(wrong, ImpersonationAllowedDocument, { projectId: world.projectId }, 1)).toEqual(["RATE_LIMITED"]);
    // Valid credentials from the same address are not affected.
    expect(await codes(world.backend, ImpersonationAllowedDocument, { projectId: world.projectId }, 1)).toEqual(["OK"]);
    t.clock.advanceSeconds(burst);
    expect(await codes(wrong, ImpersonationAllowedDocument, { projectId: world.projectId }, 1)).toEqual(["UNAUTHENTICATED"]);
  });

  it("limits guessing impersonation tokens, audits the refusals, and still lets a real token through later", async () => {
    const guesses = await codes(world.backend, ExchangeTokenDocument, { token: "mq_imp_guess" }, burst);
    expect(guesses).toEqual(Array(burst).fill("IMPERSONATION_TOKEN_NOT_FOUND"));
    const { token } = await issueToken(t, world);
    expect(await codes(world.backend, ExchangeTokenDocument, { token }, 1)).toEqual(["RATE_LIMITED"]);
    const rows = await t.app.orm.em
      .fork()
      .getConnection()
      .execute("select count(*) as n from audit_events where error_code = 'RATE_LIMITED' and action = 'AuthenticateImpersonationToken'");
    expect(Number(rows[0].n)).toBe(1);
    t.clock.advanceSeconds(5);
    expect(await codes(world.backend, ExchangeTokenDocument, { token }, 1)).toEqual(["OK"]);
  });

  it("keeps guesses made with the public token (anyone's browser) from spending the backend's budget", async () => {
    t.clock.advanceSeconds(60);
    const guesses = await codes(world.frontend, ExchangeTokenDocument, { token: "mq_imp_browser_guess" }, burst);
    expect(guesses).toEqual(Array(burst).fill("IMPERSONATION_TOKEN_NOT_FOUND"));
    expect(await codes(world.frontend, ExchangeTokenDocument, { token: "mq_imp_browser_guess" }, 1)).toEqual(["RATE_LIMITED"]);
    const { token } = await issueToken(t, world);
    expect(await codes(world.backend, ExchangeTokenDocument, { token }, 1)).toEqual(["OK"]);
  });
});
