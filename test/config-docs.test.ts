import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { buildSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { ErrorCode } from "../src/errors/codes.js";
import { AuditAction, AuditEventType } from "../src/modules/audit/audit-status.js";

const repoRoot = resolve(import.meta.dirname, "..");
const read = (path: string): string => readFileSync(join(repoRoot, path), "utf8");

const settingName = /^[A-Z][A-Z0-9_]*$/;

/**
 * Every environment variable src/config.ts reads, found two ways: by running loadConfig on an
 * environment that records each name asked for (what it reads with every default), and by reading
 * its source for the names it passes to a Settings parser or takes from `env` (what it would read
 * only when another setting asks for it).
 */
function settingsTheCodeReads(): Set<string> {
  const names = new Set<string>();
  const recording = new Proxy({} as NodeJS.ProcessEnv, {
    get(_target, key) {
      if (typeof key === "string" && settingName.test(key)) names.add(key);
      return undefined;
    },
  });
  loadConfig(recording);

  const source = read("src/config.ts");
  const patterns = [
    /\bsettings\.\w+\(\s*["'`]([A-Z][A-Z0-9_]*)["'`]/g, // settings.integer("PORT", …)
    /\benv\??\.([A-Z][A-Z0-9_]*)\b/g, // env.PORT, env?.PORT
    /\benv\[\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*\]/g, // env["PORT"]
    /\bSettingError\(\s*["'`]([A-Z][A-Z0-9_]*)["'`]/g, // a variable parsed by hand
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) names.add(match[1]!);
  return names;
}

/** The cells of a Markdown table row, without the outer pipes (an escaped `\|` stays in its cell). */
function cells(row: string): string[] {
  return row.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/).map((cell) => cell.trim());
}

/**
 * The setting names of README's configuration table: the first table under the "Configuration"
 * heading, read from its env/variable/setting column (the first when none is named so). Every
 * name in backticks in that column counts; a row may name several. Returns the names, and the
 * rows that name none or use a wildcard, which the test refuses.
 */
function settingsTheReadmeLists(): { names: Set<string>; unclear: string[] } {
  const readme = read("README.md");
  const heading = /^##\s+Configuration\s*$/m.exec(readme);
  if (!heading) throw new Error('README.md has no "## Configuration" section');
  const rest = readme.slice(heading.index + heading[0].length);
  const next = /^##\s/m.exec(rest);
  const section = next ? rest.slice(0, next.index) : rest;

  const lines = section.split("\n");
  const start = lines.findIndex((line) => line.trim().startsWith("|"));
  if (start < 0) throw new Error("README.md's Configuration section has no table");
  const end = lines.findIndex((line, index) => index > start && !line.trim().startsWith("|"));
  const [header, separator, ...rows] = lines.slice(start, end < 0 ? undefined : end);
  expect(cells(separator!).every((cell) => /^:?-+:?$/.test(cell))).toBe(true);
  const headerCells = cells(header!);
  const column = Math.max(0, headerCells.findIndex((cell) => /\b(env|variable|setting|name)/i.test(cell)));

  const names = new Set<string>();
  const unclear: string[] = [];
  for (const row of rows) {
    const cell = cells(row)[column] ?? "";
    const quoted = [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.trim());
    const found = quoted.filter((name) => settingName.test(name));
    if (found.length === 0 || quoted.length !== found.length) unclear.push(cell);
    for (const name of found) names.add(name);
  }
  return { names, unclear };
}

describe("README's configuration table", () => {
  it("lists every setting src/config.ts reads, and nothing it does not", () => {
    const code = settingsTheCodeReads();
    const { names: readme, unclear } = settingsTheReadmeLists();
    // A row such as `WEBHOOK_*` or one without a name in backticks hides which settings exist.
    expect(unclear).toEqual([]);
    const missingFromReadme = [...code].filter((name) => !readme.has(name)).sort();
    const notReadByCode = [...readme].filter((name) => !code.has(name)).sort();
    expect({ missingFromReadme, notReadByCode }).toEqual({ missingFromReadme: [], notReadByCode: [] });
    // The same names, so the comparison above compared something.
    expect(code.size).toBeGreaterThan(10);
  });

  it("has one door: no other file of src/ reads process.env", () => {
    const readers: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.[cm]?ts$/.test(entry.name) && /\bprocess\.env\b/.test(readFileSync(path, "utf8"))) readers.push(relative(repoRoot, path));
      }
    };
    walk(join(repoRoot, "src"));
    expect(readers).toEqual(["src/config.ts"]);
  });
});

describe("the documentation stands alone", () => {
  const documents = ["README.md", ...readdirSync(join(repoRoot, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

  it("links only to files of the project, and to files that exist", () => {
    const broken: string[] = [];
    for (const document of documents) {
      const text = read(document);
      // Markdown links and bare `../…` paths, which are the way out of a clone.
      const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
      for (const match of text.matchAll(/`(\.\.\/[^`\s]+)`/g)) targets.push(match[1]!);
      for (const target of targets) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue; // https:, mailto:, an anchor
        const path = resolve(join(repoRoot, dirname(document)), target.split("#")[0]!);
        if (relative(repoRoot, path).startsWith("..") || !existsSync(path)) broken.push(`${document}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("docs/contract.md names every operation of schema.graphql and every error code", () => {
    const contract = read("docs/contract.md");
    const schema = buildSchema(read("schema.graphql"));
    const operations = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) =>
      type ? Object.keys(type.getFields()) : [],
    );
    expect(operations.length).toBeGreaterThan(20);
    // Each operation in the first cell of a row of "Operations", and named in the authorization matrix.
    const firstCells = (part: string): string[] =>
      part.split("\n").filter((line) => line.startsWith("|")).map((line) => cells(line)[0]!);
    const section = (from: string, to: string): string => contract.slice(contract.indexOf(from), contract.indexOf(to));
    const described = firstCells(section("## Operations", "## Authorization matrix")).join(" ");
    expect(operations.filter((name) => !described.includes(`\`${name}\``))).toEqual([]);
    const inMatrix = new Set(firstCells(section("## Authorization matrix", "## Errors")).flatMap((cell) => cell.split(/,\s*/)));
    expect(operations.filter((name) => !inMatrix.has(name))).toEqual([]);

    const errors = contract.slice(contract.indexOf("## Errors"));
    expect(Object.values(ErrorCode).filter((code) => !new RegExp(`^\\| \`${code}\` \\|`, "m").test(errors))).toEqual([]);
  });

  it("docs/contract.md lists every endpoint, audit action and event type this version serves, and nothing as unshipped", () => {
    const contract = read("docs/contract.md");
    const endpoints = contract.slice(contract.indexOf("## Endpoints"), contract.indexOf("## Credentials"));
    for (const path of ["/graphql", "/.well-known/jwks.json", "/healthz", "/readyz", "/console", "/metrics", "METRICS_PORT", "x-request-id"]) {
      expect(endpoints, path).toContain(`\`${path}\``);
    }
    const audit = contract.slice(contract.indexOf("| action | operation | log | `eventType` |"), contract.indexOf("### Webhooks and signing keys"));
    const rows = new Map(audit.split("\n").filter((line) => line.startsWith("| `")).map((line) => [cells(line)[0], cells(line)[3]]));
    for (const action of Object.values(AuditAction)) expect(rows.has(`\`${action}\``), action).toBe(true);
    expect(new Set(rows.values())).toEqual(new Set(Object.values(AuditEventType).map((type) => `\`${type}\``)));
    expect(contract).not.toMatch(/Not in this version/i);
  });
});
