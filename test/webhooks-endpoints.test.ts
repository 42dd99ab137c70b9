import type { DocumentNode } from "graphql";
import { describe, expect, it } from "vitest";
import { anonymous, gql, gqlErrorCode, gqlOk, type Credential } from "./harness/client.js";
import { issueToken } from "./harness/fixtures.js";
import { useTestWorld } from "./harness/test-world.js";
import { webhookOps } from "./harness/webhook-receiver.js";

const allTypes = ["direct.user.impersonate", "direct.session.revoke", "dashboard.impersonation_token.create", "dashboard.impersonation_policy.update"];

const statements: string[] = [];

// No worker here: the statements seen are the requests' own.
const { t, world } = useTestWorld({ app: { env: { WEBHOOK_WORKER: "false" }, onQuery: (sql) => statements.push(sql) } });

function input(overrides: Record<string, unknown> = {}) {
  return { input: { projectId: world.projectId, url: "https://hooks.example.com/masquerade", eventTypes: ["direct.user.impersonate"], ...overrides } };
}

describe("webhook endpoints", () => {
  it("creates an endpoint and shows its whsec_ secret once", async () => {
    const data = await gqlOk(t.url, world.admin.credential, webhookOps.create, input({ eventTypes: allTypes }));
    const { endpoint, secret } = data.createWebhookEndpoint;
    expect(endpoint).toMatchObject({ url: "https://hooks.example.com/masquerade", eventTypes: allTypes, enabled: true, previousSecretExpiresAt: null });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice("whsec_".length), "base64").length).toBeGreaterThanOrEqual(24);

    const listed = await gql(t.url, world.developer.credential, webhookOps.list, { projectId: world.projectId });
    expect(listed.data!.webhookEndpoints.map((e: { id: string }) => e.id)).toContain(endpoint.id);
    // The secret is not part of the schema at all, so no query can read it back.
    const leak = await gql(t.url, world.admin.credential, `query($p: ID!) { webhookEndpoints(projectId: $p) { id secret } }`, { p: world.projectId });
    expect(leak.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(listed)).not.toContain(secret.slice(6));

    const second = await gqlOk(t.url, world.developer.credential, webhookOps.create, input());
    expect(second.createWebhookEndpoint.secret).not.toBe(secret);
  });

  it("keeps event types to a non-empty subset of the contract types, deduplicated", async () => {
    const twice = await gqlOk(t.url, world.admin.credential, webhookOps.create, input({ eventTypes: ["direct.session.revoke", "direct.session.revoke"] }));
    expect(twice.createWebhookEndpoint.endpoint.eventTypes).toEqual(["direct.session.revoke"]);
    for (const eventTypes of [[], ["direct.user.impersonate", "user.created"], ["*"], ["DIRECT.USER.IMPERSONATE"], [""]]) {
      expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.create, input({ eventTypes }))).toBe("BAD_USER_INPUT");
    }
  });

  it("accepts only absolute http(s) URLs (loopback is fine outside production)", async () => {
    for (const url of ["ftp://hooks.example.com/x", "javascript:alert(1)", "/relative", "", "not a url", "https://user:pw@hooks.example.com/", `https://x.example.com/${"a".repeat(2100)}`]) {
      expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.create, input({ url })), url).toBe("BAD_USER_INPUT");
    }
    const local = await gqlOk(t.url, world.admin.credential, webhookOps.create, input({ url: "http://127.0.0.1:9/hook" }));
    expect(local.createWebhookEndpoint.endpoint.url).toBe("http://127.0.0.1:9/hook");
  });

  it("updates, disables, re-enables and deletes an endpoint", async () => {
    const { endpoint } = (await gqlOk(t.url, world.developer.credential, webhookOps.create, input())).createWebhookEndpoint;
    const disabled = await gqlOk(t.url, world.developer.credential, webhookOps.update, { id: endpoint.id, input: { enabled: false } });
    expect(disabled.updateWebhookEndpoint).toMatchObject({ id: endpoint.id, enabled: false, eventTypes: ["direct.user.impersonate"] });
    const changed = await gqlOk(t.url, world.admin.credential, webhookOps.update, {
      id: endpoint.id,
      input: { enabled: true, url: "https://other.example.com/in", eventTypes: ["dashboard.impersonation_policy.update", "direct.user.impersonate"] },
    });
    expect(changed.updateWebhookEndpoint).toEqual({
      id: endpoint.id,
      enabled: true,
      url: "https://other.example.com/in",
      eventTypes: ["direct.user.impersonate", "dashboard.impersonation_policy.update"],
    });
    const listed = await gqlOk(t.url, world.admin.credential, webhookOps.list, { projectId: world.projectId });
    expect(listed.webhookEndpoints.find((e: { id: string }) => e.id === endpoint.id)).toMatchObject({ enabled: true, url: "https://other.example.com/in" });

    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.update, { id: endpoint.id, input: { eventTypes: [] } })).toBe("BAD_USER_INPUT");
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.update, { id: endpoint.id, input: { url: "gopher://x" } })).toBe("BAD_USER_INPUT");

    expect((await gqlOk(t.url, world.developer.credential, webhookOps.delete, { id: endpoint.id })).deleteWebhookEndpoint).toBe(true);
    const after = await gqlOk(t.url, world.admin.credential, webhookOps.list, { projectId: world.projectId });
    expect(after.webhookEndpoints.map((e: { id: string }) => e.id)).not.toContain(endpoint.id);
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.delete, { id: endpoint.id })).toBe("NOT_FOUND");
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.update, { id: endpoint.id, input: { enabled: true } })).toBe("NOT_FOUND");
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.rotate, { id: endpoint.id })).toBe("NOT_FOUND");
  });

  it("rotates the secret, keeping the old one alive for the overlap", async () => {
    const { endpoint, secret } = (await gqlOk(t.url, world.admin.credential, webhookOps.create, input())).createWebhookEndpoint;
    const rotated = (await gqlOk(t.url, world.developer.credential, webhookOps.rotate, { id: endpoint.id })).rotateWebhookEndpointSecret;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    expect(new Date(rotated.endpoint.previousSecretExpiresAt!).getTime()).toBe(t.clock.now().getTime() + 24 * 3600_000);
  });

  it("answers NOT_FOUND for unknown projects and ids, BAD_USER_INPUT for bad cursors", async () => {
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.create, input({ projectId: "project-nope" }))).toBe("NOT_FOUND");
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.list, { projectId: "x".repeat(500) })).toBe("NOT_FOUND");
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.retry, { id: "msg-nope" })).toBe("NOT_FOUND");
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, after: "garbage" })).toBe("BAD_USER_INPUT");
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, first: 0 })).toBe("BAD_USER_INPUT");
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.deliveries as DocumentNode, { projectId: world.projectId, status: "LOST" })).toBe("BAD_USER_INPUT");
  });

  it("lets only ADMIN and DEVELOPER manage endpoints (SPEC §6)", async () => {
    const { endpoint } = (await gqlOk(t.url, world.admin.credential, webhookOps.create, input())).createWebhookEndpoint;
    const refused: Array<[string, Credential, string]> = [
      ["SUPPORT_MANAGER", world.supportManager.credential, "FORBIDDEN"],
      ["VIEWER", world.viewer.credential, "FORBIDDEN"],
      ["backend", world.backend, "FORBIDDEN"],
      ["frontend", world.frontend, "FORBIDDEN"],
      ["other project's backend", world.other.backend, "FORBIDDEN"],
      ["anonymous", anonymous, "UNAUTHENTICATED"],
      ["bad key", { kind: "member", apiKey: "mq_key_wrong" }, "UNAUTHENTICATED"],
    ];
    const operations: Array<[string, DocumentNode, Record<string, unknown>]> = [
      ["create", webhookOps.create, input()],
      ["list", webhookOps.list, { projectId: world.projectId }],
      ["update", webhookOps.update, { id: endpoint.id, input: { enabled: false } }],
      ["rotate", webhookOps.rotate, { id: endpoint.id }],
      ["deliveries", webhookOps.deliveries, { projectId: world.projectId }],
      ["retry", webhookOps.retry, { id: "msg-anything" }],
      ["delete", webhookOps.delete, { id: endpoint.id }],
    ];
    for (const [who, credential, code] of refused) {
      for (const [name, query, variables] of operations) {
        expect(await gqlErrorCode(t.url, credential, query, variables), `${who} ${name}`).toBe(code);
      }
    }
    // Nothing changed.
    const listed = await gqlOk(t.url, world.admin.credential, webhookOps.list, { projectId: world.projectId });
    expect(listed.webhookEndpoints.find((e: { id: string }) => e.id === endpoint.id)).toMatchObject({ enabled: true });
    for (const member of [world.admin, world.developer]) {
      await gqlOk(t.url, member.credential, webhookOps.deliveries, { projectId: world.projectId });
      await gqlOk(t.url, member.credential, webhookOps.list, { projectId: world.other.projectId });
    }
  });

  it("looks a project's endpoints up at most once a second from audited transactions", async () => {
    const endpointLookups = () => statements.filter((sql) => sql.includes("from webhook_endpoints where project_id")).length;
    const { endpoint } = (await gqlOk(t.url, world.admin.credential, webhookOps.create, input({ eventTypes: ["dashboard.impersonation_token.create"] })))
      .createWebhookEndpoint;
    t.clock.advance(1001);
    const before = endpointLookups();
    for (let i = 0; i < 3; i++) await issueToken(t, world);
    expect(endpointLookups() - before).toBe(1);
    t.clock.advance(1001);
    await issueToken(t, world);
    expect(endpointLookups() - before).toBe(2);
    // A local change is seen at once, cache or not.
    await gqlOk(t.url, world.admin.credential, webhookOps.update, { id: endpoint.id, input: { enabled: false } });
    await issueToken(t, world);
    expect(endpointLookups() - before).toBe(3);
    const data = await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, endpointId: endpoint.id });
    expect(data.webhookDeliveries.edges).toHaveLength(4);
  });

  it("caps the endpoints of one project", async () => {
    const listed = await gqlOk(t.url, world.admin.credential, webhookOps.list, { projectId: world.other.projectId });
    for (let i = listed.webhookEndpoints.length; i < 50; i++) {
      await gqlOk(t.url, world.admin.credential, webhookOps.create, input({ projectId: world.other.projectId }));
    }
    expect(await gqlErrorCode(t.url, world.admin.credential, webhookOps.create, input({ projectId: world.other.projectId }))).toBe("BAD_USER_INPUT");
  });
});
