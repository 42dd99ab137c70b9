/**
 * Summarises a V8 .cpuprofile (from `BENCH_CPU_PROF=<dir> npm run bench`): the top functions by
 * self time, and by package/file, so that hot spots can be named without a GUI.
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [--top 30] [--from <µs> --to <µs>]
 *   node dist/bench/profile-summary.js <file.cpuprofile> --results bench/results.json --scenario impersonation
 *
 * --from/--to (or a scenario's measured runs from results.json) keep only the samples taken in
 * that window of the monotonic clock, so start-up and seeding do not blur the picture.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  options: {
    top: { type: "string", default: "30" },
    from: { type: "string" },
    to: { type: "string" },
    results: { type: "string" },
    scenario: { type: "string" },
  },
  allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  console.error("usage: profile-summary <file.cpuprofile> [--top n] [--from µs --to µs | --results results.json --scenario name]");
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;

let windows: Array<{ start: number; end: number }> = [];
if (values.from || values.to) windows = [{ start: Number(values.from ?? 0), end: Number(values.to ?? Number.MAX_SAFE_INTEGER) }];
if (values.results && values.scenario) {
  const results = JSON.parse(readFileSync(values.results, "utf8")) as {
    scenarios: Array<{ name: string; runs: Array<{ monotonicUs: { start: number; end: number } }> }>;
    fanout: { monotonicUs: { start: number; end: number } } | null;
  };
  if (values.scenario === "fanout") {
    if (!results.fanout) throw new Error(`no fan-out figures in ${values.results}`);
    windows = [results.fanout.monotonicUs];
  } else {
    const scenario = results.scenarios.find((s) => s.name === values.scenario);
    if (!scenario) throw new Error(`no scenario ${values.scenario} in ${values.results}`);
    windows = scenario.runs.map((r) => r.monotonicUs);
  }
}

// Sample timestamps: startTime plus the running sum of timeDeltas (µs, monotonic clock).
const kept: boolean[] = [];
{
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    kept.push(windows.length === 0 || windows.some((w) => t >= w.start && t <= w.end));
  }
}

// Self time per node: each sample's delta is charged to the node it hit.
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  if (!kept[i]) continue;
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

function shortUrl(url: string): string {
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length);
  const dist = url.indexOf("/dist/");
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, "");
}

function owner(url: string): string {
  if (!url) return "(native / V8)";
  if (url.startsWith("node:")) return "node core";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf("/dist/");
  return dist >= 0 ? url.slice(dist + 1).split("/").slice(0, 3).join("/") : url;
}

const byFunction = new Map<string, number>();
const byOwner = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = nodes.get(id)!.callFrame;
  const key = `${frame.functionName || "(anonymous)"}  ${shortUrl(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const o = owner(frame.url);
  byOwner.set(o, (byOwner.get(o) ?? 0) + us);
}

const pct = (us: number) => ((100 * us) / totalUs).toFixed(1).padStart(5);
console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled${windows.length ? ` in ${windows.length} window(s)` : ""}\n`);
console.log("self time by function:");
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
console.log("\nself time by package / file:");
for (const [key, us] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);

// Inclusive time of Masquerade's own functions (dist/src): where the time goes, below them included.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const inclusive = new Map<string, number>();
for (let i = 0; i < profile.samples.length; i++) {
  if (!kept[i]) continue;
  const seen = new Set<string>();
  for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const n = nodes.get(id)!;
    if (!n.callFrame.url.includes("dist/src/")) continue;
    const key = keyOf(n);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
}
console.log("\ninclusive time of Masquerade functions (dist/src):");
for (const [key, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
