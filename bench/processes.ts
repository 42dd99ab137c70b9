import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** A server under test, in a child process of its own (so its event loop and RSS are its own). */
export interface ChildServer {
  name: string;
  pid: number;
  port: number;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** Resident set size of the child, in MiB (VmRSS from /proc/<pid>/status). */
  rssMb(): Promise<number>;
  /** CPU time the child has used so far (user + system, all threads), in seconds. */
  cpuSeconds(): Promise<number>;
  /** SIGTERM, then wait for a clean exit (so --cpu-prof can write its profile). */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function readRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

const clockTicksPerSecond = 100; // USER_HZ: 100 on every Linux architecture Node supports

export async function readCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

export interface StartOptions {
  name: string;
  /** The compiled script to run with node. */
  script: string;
  env?: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  /** Path polled until it answers 200. */
  readyPath?: string;
  readyTimeoutMs?: number;
}

/** Spawns `node <script>` with PORT set, and waits until it answers on `readyPath`. */
export async function startChildServer(options: StartOptions): Promise<ChildServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script], {
    env: { ...process.env, ...options.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (hasExited) throw new Error(`${options.name} exited before it was ready:\n${output}`);
    try {
      const response = await fetch(origin + (options.readyPath ?? "/healthz"));
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.name} was not ready in time:\n${output}`);
    }
    await sleep(100);
  }

  const pid = child.pid!;
  return {
    name: options.name,
    pid,
    port,
    origin,
    rssMb: () => readRssMb(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    async stop() {
      if (hasExited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0 && code !== null) console.error(`[bench] ${options.name} exited with code ${code}:\n${output}`);
    },
  };
}

/** Runs `node <script> ...args` to completion; resolves with its stdout, rejects on a non-zero exit. */
export async function runNodeScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  if (code !== 0) throw new Error(`${script} exited with code ${code}:\n${stderr || stdout}`);
  return stdout;
}
