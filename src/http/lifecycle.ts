import type { RequestListener, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SettingError } from "../errors/setting-error.js";

/** How long a shutdown waits for requests in flight before it closes their connections. */
const drainTimeoutMs = 10_000;

/**
 * Counts the requests in flight, so that a shutdown lets them finish: while draining, responses
 * ask their clients to close the connection, and `drain` resolves once the last one has ended.
 */
export class RequestDrain {
  private inFlight = 0;
  private isDraining = false;
  private drained: (() => void) | null = null;

  /** True from the start of a shutdown: /healthz answers 503 so that a load balancer stops sending work. */
  get draining(): boolean {
    return this.isDraining;
  }

  /** The listener, counting each request until its response has closed. */
  track(listener: RequestListener): RequestListener {
    return (req, res) => {
      this.inFlight++;
      res.on("close", () => {
        this.inFlight--;
        if (this.isDraining && this.inFlight === 0) this.drained?.();
      });
      if (this.isDraining) res.setHeader("connection", "close");
      listener(req, res);
    };
  }

  /**
   * Stops accepting connections and waits (at most 10 s) for the requests in flight; idle
   * keep-alive connections are closed at once.
   */
  async drain(server: Server): Promise<void> {
    this.isDraining = true;
    const idle = new Promise<void>((resolve) => {
      this.drained = resolve;
      if (this.inFlight === 0) resolve();
    });
    server.close();
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)));
    await Promise.race([idle, timedOut]);
    clearTimeout(timer);
  }
}

/**
 * A shutdown that runs its steps one after the other, in the order given, once: calling it again
 * (a second signal, a test's cleanup) returns the same promise.
 */
export function orderedShutdown(steps: ReadonlyArray<() => unknown>): () => Promise<void> {
  let closing: Promise<void> | null = null;
  return () =>
    (closing ??= (async () => {
      for (const step of steps) {
        // Only a step that returns a promise is waited for: synchronous steps run back to back.
        const done = step();
        if (done instanceof Promise) await done;
      }
    })());
}

/** Listens on PORT (0: any free port) and resolves with the port; a port that cannot be had is a SettingError naming `setting`. */
export function listen(server: Server, port: number, setting = "PORT"): Promise<number> {
  return new Promise((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === "EADDRINUSE" ? "is already in use"
        : error.code === "EACCES" ? "needs privileges this process does not have (ports below 1024)"
        : `cannot be listened on: ${error.message}`;
      reject(new SettingError(setting, `${port} ${reason}`));
    };
    server.once("error", refused);
    server.listen(port, () => {
      server.off("error", refused);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** What /readyz answers: ready, or why not. */
export type Readiness = { ready: true } | { ready: false; reason: "draining" | "database unreachable" | "redis disconnected" };

export interface ReadinessDependencies {
  /** True from the start of a shutdown. */
  draining(): boolean;
  /** A cheap statement on the database (`select 1`). */
  pingDatabase(): Promise<unknown>;
  /** Whether the Redis connections are up; absent without REDIS_URL. */
  redisConnected?: () => boolean;
  /** How long the ping may take before the database counts as unreachable (default 2 s). */
  pingTimeoutMs?: number;
}

/**
 * The readiness check of SPEC §10: not while draining; then the database must answer a ping within
 * the timeout, and Redis (with REDIS_URL) be connected. Concurrent checks share one ping, so that a
 * burst of probes costs one statement. Never rejects.
 */
export function createReadinessCheck(deps: ReadinessDependencies): () => Promise<Readiness> {
  const timeoutMs = deps.pingTimeoutMs ?? 2000;
  let ping: Promise<boolean> | null = null;
  const databaseAnswers = () =>
    (ping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const answered = deps.pingDatabase().then(
        () => true,
        () => false,
      );
      return Promise.race([answered, timedOut]).finally(() => clearTimeout(timer));
    })().finally(() => (ping = null)));
  return async () => {
    if (deps.draining()) return { ready: false, reason: "draining" };
    if (!(await databaseAnswers())) return { ready: false, reason: "database unreachable" };
    if (deps.redisConnected && !deps.redisConnected()) return { ready: false, reason: "redis disconnected" };
    // A shutdown may have begun while the ping ran.
    if (deps.draining()) return { ready: false, reason: "draining" };
    return { ready: true };
  };
}
