import { useState } from "preact/hooks";
import {
  ConsoleRetryWebhookDeliveryDocument,
  ConsoleSetWebhookEndpointEnabledDocument,
  ConsoleWebhookDeliveriesDocument,
  ConsoleWebhookEndpointsDocument,
  type WebhookDeliveryStatus,
} from "../generated/graphql.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { formatTime } from "../format.ts";
import { Badge, ErrorNote, Loading, Page } from "../ui.tsx";

const statusTone = { SUCCEEDED: "good", FAILED: "bad", PENDING: "warn" } as const;

/** Webhook endpoints (enable, disable) and their deliveries with every attempt; retry a failed one. */
export function WebhooksPage() {
  const { call, project } = useConsole();
  const endpoints = useLoad(() => call(ConsoleWebhookEndpointsDocument, { projectId: project.id }), [project.id]);
  const [endpointId, setEndpointId] = useState("");
  const [status, setStatus] = useState<"" | WebhookDeliveryStatus>("");
  const deliveries = useLoad(
    () => call(ConsoleWebhookDeliveriesDocument, { projectId: project.id, endpointId: endpointId || null, status: status || null }),
    [project.id, endpointId, status],
  );
  const action = useAction();
  const urlOf = new Map(endpoints.data?.webhookEndpoints.map((endpoint) => [endpoint.id, endpoint.url]) ?? []);

  return (
    <Page title="Webhooks">
      <ErrorNote error={endpoints.error ?? action.error} />
      <h2>Endpoints</h2>
      <Loading loading={endpoints.loading && !endpoints.data} />
      {endpoints.data && endpoints.data.webhookEndpoints.length === 0 && <p class="muted">No endpoint yet (createWebhookEndpoint adds one and shows its secret once).</p>}
      {endpoints.data && endpoints.data.webhookEndpoints.length > 0 && (
        <table>
          <caption class="visually-hidden">Webhook endpoints</caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Event types</th>
              <th scope="col">Status</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.data.webhookEndpoints.map((endpoint) => (
              <tr key={endpoint.id}>
                <td>
                  <code>{endpoint.url}</code>
                </td>
                <td>{endpoint.eventTypes.join(", ")}</td>
                <td>{endpoint.enabled ? <Badge tone="good">Enabled</Badge> : <Badge tone="neutral">Disabled</Badge>}</td>
                <td>
                  <button
                    type="button"
                    disabled={action.busy}
                    onClick={() => void action.run(() => call(ConsoleSetWebhookEndpointEnabledDocument, { id: endpoint.id, enabled: !endpoint.enabled })).then(endpoints.reload)}
                  >
                    {endpoint.enabled ? "Disable" : "Enable"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Deliveries</h2>
      <div class="filters">
        <label>
          Endpoint
          <select value={endpointId} onChange={(event) => setEndpointId(event.currentTarget.value)}>
            <option value="">Every endpoint</option>
            {endpoints.data?.webhookEndpoints.map((endpoint) => (
              <option key={endpoint.id} value={endpoint.id}>
                {endpoint.url}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(event) => setStatus(event.currentTarget.value as "" | WebhookDeliveryStatus)}>
            <option value="">Any status</option>
            <option value="PENDING">Pending</option>
            <option value="SUCCEEDED">Succeeded</option>
            <option value="FAILED">Failed</option>
          </select>
        </label>
        <div class="row">
          <button type="button" onClick={deliveries.reload}>
            Refresh
          </button>
        </div>
      </div>
      <ErrorNote error={deliveries.error} />
      {deliveries.data && deliveries.data.webhookDeliveries.edges.length === 0 && <p class="muted">No delivery matches.</p>}
      <ul class="deliveries">
        {deliveries.data?.webhookDeliveries.edges.map(({ node: delivery }) => (
          <li key={delivery.id} class="card" data-delivery-id={delivery.id}>
            <div class="row spread">
              <span>
                <strong>{delivery.eventType}</strong> to <code>{urlOf.get(delivery.endpointId) ?? delivery.endpointId}</code>
              </span>
              <Badge tone={statusTone[delivery.status]}>{delivery.status}</Badge>
            </div>
            <p class="muted small">
              Queued {formatTime(delivery.createdAt)} · {delivery.attemptCount} attempt{delivery.attemptCount === 1 ? "" : "s"}
              {delivery.nextAttemptAt && ` · next attempt ${formatTime(delivery.nextAttemptAt)}`}
              {delivery.completedAt && ` · done ${formatTime(delivery.completedAt)}`}
            </p>
            {delivery.lastError && <p class="error small">{delivery.lastError}</p>}
            {delivery.attempts.length > 0 && (
              <details>
                <summary>Attempts</summary>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Started</th>
                      <th scope="col">Answer</th>
                      <th scope="col">Duration</th>
                    </tr>
                  </thead>
                  <tbody>
                    {delivery.attempts.map((attempt) => (
                      <tr key={attempt.id}>
                        <td>{attempt.attemptNumber}</td>
                        <td>{formatTime(attempt.startedAt)}</td>
                        <td>{attempt.success ? <Badge tone="good">HTTP {attempt.statusCode}</Badge> : <Badge tone="bad">{attempt.statusCode ? `HTTP ${attempt.statusCode}` : (attempt.error ?? "failed")}</Badge>}</td>
                        <td>{attempt.durationMs} ms</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </details>
            )}
            {delivery.status === "FAILED" && (
              <button type="button" disabled={action.busy} onClick={() => void action.run(() => call(ConsoleRetryWebhookDeliveryDocument, { id: delivery.id })).then(deliveries.reload)}>
                Retry delivery
              </button>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}
