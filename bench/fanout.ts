import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { gql, mapLimit, type Credential } from "./gql.js";
import { percentile } from "./load.js";

const subscriptionQuery = /* GraphQL */ `
  subscription BenchAuditEventAdded($projectId: ID!) {
    auditEventAdded(projectId: $projectId) {
      id
      action
      eventType
      status
      reason
      impersonatorId
      createdAt
    }
  }
`;

interface Receipt {
  count: number;
  last: number;
  done: () => void;
}

/** N graphql-ws clients, one WebSocket each, all subscribed to auditEventAdded of one project. */
export class Subscribers {
  private readonly clients: Client[] = [];
  private readonly disposers: Array<() => void> = [];
  private readonly receipts = new Map<string, Receipt>();
  /** Subscription errors and unexpected completions, by message. */
  readonly failures = new Map<string, number>();

  private constructor(readonly size: number) {}

  static async connect(wsUrl: string, credential: Credential, projectId: string, size: number): Promise<Subscribers> {
    const subscribers = new Subscribers(size);
    await mapLimit(
      Array.from({ length: size }, (_, i) => i),
      50,
      (i) => subscribers.connectOne(wsUrl, credential, projectId, i),
    );
    return subscribers;
  }

  private connectOne(wsUrl: string, credential: Credential, projectId: string, index: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: credential.connectionParams,
        retryAttempts: 0,
        lazy: true,
        on: {
          connected: () => resolve(),
          error: (error) => reject(new Error(`subscriber ${index} could not connect: ${describe(error)}`)),
          closed: (event) => reject(new Error(`subscriber ${index} was closed before it connected: ${describe(event)}`)),
        },
      });
      this.clients.push(client);
      const dispose = client.subscribe<{ auditEventAdded: { reason: string | null } }>(
        { query: subscriptionQuery, variables: { projectId } },
        {
          next: (result) => {
            const at = performance.now();
            if (result.errors?.length) return this.fail(`GraphQL error: ${result.errors[0]?.message}`);
            const reason = result.data?.auditEventAdded?.reason;
            if (!reason) return;
            const receipt = this.receipts.get(reason);
            if (!receipt) return;
            receipt.count++;
            receipt.last = at;
            if (receipt.count === this.size) receipt.done();
          },
          error: (error) => this.fail(`subscription error: ${describe(error)}`),
          complete: () => this.fail("subscription completed"),
        },
      );
      this.disposers.push(dispose);
    });
  }

  private fail(message: string): void {
    this.failures.set(message, (this.failures.get(message) ?? 0) + 1);
  }

  /**
   * Expects one event tagged `reason`; resolves with the time of its last receipt and how many
   * subscribers got it (all, unless `timeoutMs` passed first).
   */
  expect(reason: string, timeoutMs: number): Promise<{ last: number; received: number }> {
    return new Promise((resolve) => {
      const receipt: Receipt = {
        count: 0,
        last: 0,
        done: () => {
          clearTimeout(timer);
          this.receipts.delete(reason);
          resolve({ last: receipt.last, received: receipt.count });
        },
      };
      const timer = setTimeout(receipt.done, timeoutMs);
      this.receipts.set(reason, receipt);
    });
  }

  async dispose(): Promise<void> {
    for (const dispose of this.disposers) dispose();
    await Promise.allSettled(this.clients.map((client) => client.dispose()));
  }
}

function describe(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message).join("; ");
  if (error && typeof error === "object" && "code" in error) return `close ${(error as { code: number; reason?: string }).code} ${(error as { reason?: string }).reason ?? ""}`;
  return error instanceof Error ? error.message : String(error);
}

export interface FanoutMeasure {
  subscribers: number;
  /** Mutations sent (fewer than asked for when the time budget ran out: see `truncated`). */
  mutations: number;
  truncated: boolean;
  /** Mutations every subscriber received in time. */
  complete: number;
  /** From the mutation's HTTP response to the last subscriber's receipt (negative: all got it first). */
  fromResponseMs: { p50: number; p99: number; max: number };
  /** From sending the mutation to the last subscriber's receipt. */
  fromRequestMs: { p50: number; p99: number; max: number };
  failures: Record<string, number>;
  /** The measured interval on the monotonic clock (µs), to cut it out of a --cpu-prof profile. */
  monotonicUs: { start: number; end: number };
  valid: boolean;
}

export interface FanoutDriver {
  /** Runs one mutation that writes exactly one audit event whose `reason` is `reason`. */
  mutate(reason: string): Promise<void>;
}

/** Sends a probe until it reaches every subscriber (graphql-ws has no "subscribed" acknowledgement). */
export async function waitUntilAllSubscribed(subscribers: Subscribers, driver: FanoutDriver, attempts = 20): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const reason = `fanout probe ${i}`;
    const pending = subscribers.expect(reason, 3000);
    await driver.mutate(reason);
    const { received } = await pending;
    if (received === subscribers.size) return;
  }
  throw new Error(`not every subscriber receives events after ${attempts} probes; failures: ${JSON.stringify(Object.fromEntries(subscribers.failures))}`);
}

/**
 * Up to `mutations` mutations one after another; for each, the time until the last subscriber got
 * its event. Stops early (truncated) once `budgetMs` has passed, so a slow server cannot stretch the
 * whole benchmark past its time limit.
 */
export async function measureFanout(subscribers: Subscribers, driver: FanoutDriver, mutations: number, budgetMs = 60_000, timeoutMs = 10_000): Promise<FanoutMeasure> {
  const fromResponse: number[] = [];
  const fromRequest: number[] = [];
  let complete = 0;
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const deadline = performance.now() + budgetMs;
  let sent = 0;
  for (let i = 0; i < mutations && performance.now() < deadline; i++) {
    sent++;
    const reason = `fanout ${i}`;
    const pending = subscribers.expect(reason, timeoutMs);
    const requested = performance.now();
    await driver.mutate(reason);
    const responded = performance.now();
    const { last, received } = await pending;
    if (received !== subscribers.size) continue;
    complete++;
    fromResponse.push(last - responded);
    fromRequest.push(last - requested);
  }
  const summary = (values: number[]) => {
    const sorted = Float64Array.from(values).sort();
    const r = (n: number) => Math.round(n * 100) / 100;
    return { p50: r(percentile(sorted, 50)), p99: r(percentile(sorted, 99)), max: r(sorted.length ? sorted[sorted.length - 1]! : NaN) };
  };
  return {
    subscribers: subscribers.size,
    mutations: sent,
    truncated: sent < mutations,
    complete,
    fromResponseMs: summary(fromResponse),
    fromRequestMs: summary(fromRequest),
    failures: Object.fromEntries(subscribers.failures),
    monotonicUs: { start: startUs, end: Number(process.hrtime.bigint() / 1000n) },
    valid: sent > 0 && complete === sent && subscribers.failures.size === 0,
  };
}

/** The fan-out mutation: a token (one CreateImpersonationToken event carrying `reason`). */
export function tokenMutationDriver(url: string, admin: Credential, projectId: string, userId: string): FanoutDriver {
  return {
    async mutate(reason) {
      await gql(
        url,
        admin,
        `mutation BenchFanout($input: CreateImpersonationTokenInput!) { createImpersonationToken(input: $input) { expiresAt } }`,
        { input: { projectId, userId, reason } },
      );
    },
  };
}
