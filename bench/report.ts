import type { FanoutMeasure } from "./fanout.js";
import type { ScenarioMeasure } from "./load.js";

export interface MachineInfo {
  nproc: number;
  node: string;
  cpuModel: string;
  memoryGb: number;
  loadAverageAtStart: number[];
  platform: string;
}

export interface TargetCheck {
  name: string;
  description: string;
  /** The measured figure the target is about (null when not measured or invalid). */
  value: number | null;
  unit: string;
  target: string;
  met: boolean | null;
}

export interface MemoryMeasure {
  /** After start-up and seeding, before any load. */
  idleMb: number | null;
  /** After the load scenarios, before the subscribers connect. */
  afterLoadMb: number | null;
  /** With every subscriber connected and subscribed, before any event reached them. */
  withSubscribersMb: number | null;
  /** With the same subscribers, after the fan-out run (events delivered; garbage not yet collected). */
  withSubscribersAfterFanoutMb: number | null;
  subscribers: number;
}

export interface BenchResults {
  generatedAt: string;
  totalSeconds: number;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  floors: ScenarioMeasure[];
  scenarios: ScenarioMeasure[];
  fanout: FanoutMeasure | null;
  memory: MemoryMeasure;
  targets: TargetCheck[];
  /** Scenarios that could not run, with why. */
  skipped: Record<string, string>;
}

const fmt = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) => "| " + row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ") + " |";
  const rule = "|" + widths.map((w, c) => (c === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|";
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join("\n");
}

/** The results as Markdown tables (the same text is printed and goes into docs/benchmarks.md). */
export function renderTables(results: BenchResults): string {
  const apolloFloor = results.floors.find((f) => f.name === "floor-apollo");
  const apollo = apolloFloor?.requestsPerSecond ?? null;
  const apolloCpu = apolloFloor?.serverCpuMsPerOp ?? null;
  const rows: string[][] = [["scenario", "conns", "throughput /s", "× Apollo floor", "p50 ms", "p99 ms", "server CPU ms/op", "× floor by CPU", "errors", "valid runs"]];
  for (const s of [...results.floors, ...results.scenarios]) {
    const errors = s.runs.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx + r.graphqlErrors, 0);
    rows.push([
      s.label,
      String(s.connections),
      s.opsPerSecond === null ? "invalid" : `${fmt(s.opsPerSecond)} ${s.unit}`,
      apollo && s.opsPerSecond !== null ? fmt(s.opsPerSecond / apollo, 3) : "-",
      fmt(s.p50Ms, 2),
      fmt(s.p99Ms, 2),
      fmt(s.serverCpuMsPerOp, 3),
      apolloCpu && s.serverCpuMsPerOp ? fmt(apolloCpu / s.serverCpuMsPerOp, 3) : "-",
      String(errors),
      `${s.validRuns}/${s.runs.length}`,
    ]);
  }
  const parts = [pad(rows)];
  if (results.fanout) {
    const f = results.fanout;
    parts.push(
      pad([
        ["fan-out (graphql-ws)", "subscribers", "mutations delivered to all", "p50 ms", "p99 ms", "max ms", "p99 from request ms"],
        [
          "mutation response → last subscriber",
          String(f.subscribers),
          `${f.complete}/${f.mutations}`,
          fmt(f.fromResponseMs.p50, 2),
          fmt(f.fromResponseMs.p99, 2),
          fmt(f.fromResponseMs.max, 2),
          fmt(f.fromRequestMs.p99, 2),
        ],
      ]),
    );
  }
  const m = results.memory;
  parts.push(
    pad([
      ["server RSS", "MiB"],
      ["idle (after start-up and seeding)", fmt(m.idleMb, 1)],
      ["idle after the load scenarios", fmt(m.afterLoadMb, 1)],
      [`with ${m.subscribers} idle subscribers (before any event)`, fmt(m.withSubscribersMb, 1)],
      [`with ${m.subscribers} subscribers, after the fan-out run`, fmt(m.withSubscribersAfterFanoutMb, 1)],
    ]),
  );
  parts.push(
    pad([
      ["target", "measured", "goal", "met"],
      ...results.targets.map((t) => [t.description, t.value === null ? "-" : `${fmt(t.value, t.unit === "×" ? 3 : 1)} ${t.unit}`, t.target, t.met === null ? "n/a" : t.met ? "yes" : "NO"]),
    ]),
  );
  return parts.join("\n\n");
}

export function renderMachine(machine: MachineInfo): string {
  return `${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGb.toFixed(0)} GB RAM, Node ${machine.node} (${machine.platform}); load average at start ${machine.loadAverageAtStart.map((n) => n.toFixed(2)).join(" ")}`;
}
