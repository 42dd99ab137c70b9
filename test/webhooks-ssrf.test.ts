import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gqlErrorCode, gqlOk } from "./harness/client.js";
import { createWorld, issueToken } from "./harness/fixtures.js";
import { startTestApp } from "./harness/test-app.js";
import { useTestWorld } from "./harness/test-world.js";
import { eventually, settle, startWebhookReceiver, webhookOps, type DeliveryNode, type WebhookReceiver } from "./harness/webhook-receiver.js";
import { isPrivateAddress, literalHostRefusal } from "../src/modules/webhooks/url-guard.js";

describe("the private-address rule", () => {
  it("classifies addresses", () => {
    const refused = [
      "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
      "224.0.0.1", "255.255.255.255", "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "::ffff:127.0.0.1", "::ffff:7f00:1",
      "::ffff:10.0.0.1", "::ffff:0:127.0.0.1", "::ffff:0:7f00:1", "::127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "ff02::1", "fe80::1%eth0", "[::1]",
    ];
    const allowed = ["8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "192.169.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"];
    for (const address of refused) expect(isPrivateAddress(address), address).toBe(true);
    for (const address of allowed) expect(isPrivateAddress(address), address).toBe(false);
    expect(literalHostRefusal("localhost")).not.toBeNull();
    expect(literalHostRefusal("api.localhost.")).not.toBeNull();
    expect(literalHostRefusal("[::1]")).not.toBeNull();
    expect(literalHostRefusal("hooks.example.com")).toBeNull();
    expect(literalHostRefusal("93.184.216.34")).toBeNull();
  });
});

describe("webhooks in production", () => {
  const { t, world } = useTestWorld({ app: { env: { NODE_ENV: "production", WEBHOOK_POLL_INTERVAL_MS: "50" } } });
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const create = (url: string) =>
    gqlErrorCode(t.url, world.admin.credential, webhookOps.create, { input: { projectId: world.projectId, url, eventTypes: ["dashboard.impersonation_token.create"] } });

  it("refuses loopback, private, link-local and unspecified literal hosts", async () => {
    const port = receiver.port;
    for (const url of [
      `http://127.0.0.1:${port}/hooks`,
      `http://localhost:${port}/hooks`,
      "http://10.0.0.8/hooks",
      "http://172.20.1.1/hooks",
      "https://192.168.0.10/hooks",
      "http://169.254.169.254/latest/meta-data",
      "http://0.0.0.0/",
      "http://[::1]/",
      "http://[fd00::5]/",
      "http://[fe80::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://2130706433/", // 127.0.0.1 spelled as a number
      "http://0x7f.1/",
      "http://127.1/",
    ]) {
      expect(await create(url), url).toBe("BAD_USER_INPUT");
    }
    const ok = await gqlOk(t.url, world.admin.credential, webhookOps.create, {
      input: { projectId: world.projectId, url: "https://hooks.example.com/in", eventTypes: ["direct.session.revoke"] },
    });
    await gqlOk(t.url, world.admin.credential, webhookOps.delete, { id: ok.createWebhookEndpoint.endpoint.id });
  });

  it("refuses at delivery time a DNS name that resolves to a private address", async () => {
    const name = hostname();
    const addresses = await lookup(name, { all: true });
    // The machine's own name resolves to a loopback or private address (this is what the test relies on).
    expect(addresses.length > 0 && addresses.every((a) => isPrivateAddress(a.address)), `${name} -> ${JSON.stringify(addresses)}`).toBe(true);
    expect(literalHostRefusal(name)).toBeNull();

    const data = await gqlOk(t.url, world.admin.credential, webhookOps.create, {
      input: { projectId: world.projectId, url: `http://${name}:${receiver.port}/hooks`, eventTypes: ["dashboard.impersonation_token.create"] },
    });
    const endpointId = data.createWebhookEndpoint.endpoint.id;
    await issueToken(t, world);
    const row = await eventually(async () => {
      const list = await gqlOk(t.url, world.admin.credential, webhookOps.deliveries, { projectId: world.projectId, endpointId });
      const node = list.webhookDeliveries.edges[0]?.node as DeliveryNode | undefined;
      return node && node.attemptCount === 1 ? node : null;
    }, 10_000, "a refused attempt");
    expect(row.status).toBe("PENDING");
    expect(row.attempts[0]).toMatchObject({ success: false, statusCode: null });
    expect(row.attempts[0]!.error).toMatch(/^refused: .* resolves to .*a private address$/);
    await settle();
    expect(receiver.requests).toEqual([]);
    await gqlOk(t.url, world.admin.credential, webhookOps.delete, { id: endpointId });
  });
});

describe("webhooks in production with WEBHOOK_ALLOW_PRIVATE_URLS=true", () => {
  it("accepts and delivers to a loopback receiver", async () => {
    const t = await startTestApp({ env: { NODE_ENV: "production", WEBHOOK_ALLOW_PRIVATE_URLS: "true", WEBHOOK_POLL_INTERVAL_MS: "50" } });
    const receiver = await startWebhookReceiver();
    try {
      const world = await createWorld(t);
      const data = await gqlOk(t.url, world.admin.credential, webhookOps.create, {
        input: { projectId: world.projectId, url: `http://localhost:${receiver.port}/hooks`, eventTypes: ["dashboard.impersonation_token.create"] },
      });
      await issueToken(t, world);
      const [request] = await receiver.waitForRequests(1);
      expect(
        new Webhook(data.createWebhookEndpoint.secret).verify(request!.body, {
          "webhook-id": String(request!.headers["webhook-id"]),
          "webhook-timestamp": String(request!.headers["webhook-timestamp"]),
          "webhook-signature": String(request!.headers["webhook-signature"]),
        }),
      ).toMatchObject({ type: "dashboard.impersonation_token.create" });
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
