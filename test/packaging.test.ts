import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
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
