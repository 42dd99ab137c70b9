import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const demoServer = resolve(import.meta.dirname, "../../examples/demo-app/server.mjs");
const demoAdmin = resolve(import.meta.dirname, "../../examples/demo-app/admin.mjs");

export interface DemoApp {
  /** Where it listens, e.g. http://127.0.0.1:40123. */
  origin: string;
  /** What it wrote on stderr so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Runs examples/demo-app/admin.mjs (the walkthrough's staff commands) and returns its first stdout line, parsed. */
export async function runDemoAdmin(args: string[], masqueradeUrl: string): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [demoAdmin, ...args], { env: { PATH: process.env.PATH, MASQUERADE_URL: masqueradeUrl }, timeout: 30_000 });
  return JSON.parse(stdout.split("\n")[0]!) as Record<string, unknown>;
}

/**
 * Starts examples/demo-app as its own process (plain `node server.mjs`, the compiled SDK from
 * node_modules) on a free port of 127.0.0.1, and resolves once it says where it listens.
 */
export async function startDemoApp(
  env: { masqueradeUrl: string } & ({ projectId: string; projectSecret: string; publicToken: string } | { credentialsFile: string }),
): Promise<DemoApp> {
  const project =
    "credentialsFile" in env
      ? {}
      : { MASQUERADE_PROJECT_ID: env.projectId, MASQUERADE_PROJECT_SECRET: env.projectSecret, MASQUERADE_PUBLIC_TOKEN: env.publicToken };
  const args = "credentialsFile" in env ? ["--credentials", env.credentialsFile] : [];
  const child: ChildProcess = spawn(process.execPath, [demoServer, ...args], {
    env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: "0", MASQUERADE_URL: env.masqueradeUrl, ...project },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const origin = await new Promise<string>((resolveOrigin, reject) => {
    lines.once("line", (line) => {
      try {
        resolveOrigin((JSON.parse(line) as { demoApp: string }).demoApp);
      } catch {
        reject(new Error(`the demo app said ${line}; stderr: ${stderr}`));
      }
    });
    child.once("exit", (code) => reject(new Error(`the demo app exited with ${code}: ${stderr}`)));
  });
  return {
    origin,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}
