import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { tempDir } from "./harness/test-app.js";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "..");

/** What an operator's working copy holds that must never be committed or published. */
const operatorFiles = ["bootstrap.json", "data/masquerade.sqlite", "data/masquerade.sqlite-wal", "data/masquerade.sqlite-shm", "other.sqlite"];
const secretShaped = /(^|\/)bootstrap\.json$|^data\/|\.sqlite/;

async function packedFiles(cwd: string): Promise<string[]> {
  const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd, timeout: 60_000 });
  return (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
}

describe("what is committed and published", () => {
  it("git ignores the credentials file and the SQLite data", async () => {
    const { stdout } = await run("git", ["check-ignore", "--no-index", ...operatorFiles, "src/stray.sqlite-journal"], { cwd: repoRoot });
    expect(stdout.trim().split("\n")).toEqual([...operatorFiles, "src/stray.sqlite-journal"]);
  });

  it("npm pack carries what the package needs and none of an operator's files, even when they are there", async () => {
    const needed = ["package.json", "README.md", "LICENSE", "tsconfig.json", "tsconfig.build.json", "schema.graphql", "src/main.ts", "scripts/bootstrap.ts", "test/__generated__/graphql.ts"];
    const fromRepo = await packedFiles(repoRoot);
    expect(fromRepo).toEqual(expect.arrayContaining(needed));
    expect(fromRepo.some((path) => path.startsWith("migrations/sqlite/") && path.endsWith(".ts"))).toBe(true);
    expect(fromRepo.filter((path) => secretShaped.test(path))).toEqual([]);

    // The same package.json in a directory that does hold such files, in the root and inside the
    // packaged folders.
    const copy = tempDir("masquerade-pack-");
    try {
      const planted = [...operatorFiles, "src/stray.sqlite-wal", "scripts/bootstrap.json", "migrations/data/x.sqlite"];
      for (const path of [...needed, ...planted]) {
        mkdirSync(join(copy.path, dirname(path)), { recursive: true });
        if (needed.includes(path)) copyFileSync(join(repoRoot, path), join(copy.path, path));
        else writeFileSync(join(copy.path, path), "{}");
      }
      const packed = await packedFiles(copy.path);
      expect(packed.sort()).toEqual([...needed].sort());
    } finally {
      copy.remove();
    }
  });

  it("is licensed Apache-2.0: package.json says so and LICENSE is the standard text", () => {
    expect(JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).license).toBe("Apache-2.0");
    const license = readFileSync(join(repoRoot, "LICENSE"), "utf8");
    expect(license).toContain("   Copyright 2026 The Masquerade authors\n");
    // The appendix's template line filled in; everything else is apache.org's LICENSE-2.0.txt.
    const standard = license.replace("   Copyright 2026 The Masquerade authors\n", "   Copyright [yyyy] [name of copyright owner]\n");
    expect(createHash("sha256").update(standard).digest("hex")).toBe("cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30");
  });
});

/**
 * Packages of the lock file that may ask for a newer Node than package.json's `engines` names,
 * each with why it is harmless. Empty: GraphQL Code Generator is pinned to 6.3.1 (every 7.x needs
 * listr2 10, Node 22.13) and package.json's `overrides` pin the @graphql-tools packages (and
 * graphql-config) to their last release before @graphql-tools/utils 12.0.3, which moved to
 * @whatwg-node/promise-helpers 2 (Node 22.15) and took sync-fetch 0.7 and @whatwg-node/fetch 0.12
 * with it. Raising any of those pins brings the EBADENGINE warnings of `npm install` back.
 */
const engineExceptions: Record<string, string> = {};

describe("the Node version", () => {
  it("every package in package-lock.json accepts the Node version package.json's engines names", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { engines: { node: string } };
    const minimum = semver.minVersion(pkg.engines.node)!;
    // The README documents Node 20: the oldest Node the package accepts is a Node 20.
    expect(minimum.major).toBe(20);
    const versions = [minimum.version, ...(process.versions.node.startsWith("20.") ? [process.versions.node] : [])];

    const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; engines?: Record<string, string> | string[] }>;
    };
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
      if (path === "" || range === undefined) continue;
      const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
      if (name in engineExceptions) continue;
      for (const version of versions) {
        if (!semver.satisfies(version, range)) refused.push(`${path}@${entry.version} wants node ${range}, not ${version}`);
      }
    }
    expect(refused).toEqual([]);
    expect(Object.keys(lock.packages).length).toBeGreaterThan(100);
  });
});
