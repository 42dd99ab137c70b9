import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { generate, loadContext } from "@graphql-codegen/cli";
import { describe, expect, it } from "vitest";
import { renderSchema } from "../scripts/emit-schema.js";

/** Checked-in generated files must be exactly what their generators produce now (STYLE habit 10). */
const root = resolve(import.meta.dirname, "..");

describe("generated files", () => {
  it("schema.graphql is what the type-graphql code generates (run `npm run emit-schema`)", async () => {
    const checkedIn = readFileSync(join(root, "schema.graphql"), "utf8");
    expect(checkedIn, "schema.graphql is stale: run `npm run emit-schema`").toBe(await renderSchema());
  });

  it("test/__generated__ is what `npm run codegen` generates from schema.graphql and test/operations", { timeout: 60_000 }, async () => {
    const context = await loadContext(join(root, "codegen.yml"));
    context.cwd = root;
    // generate()'s declared return type is loose (its own FIXME); to memory it returns the outputs.
    const outputs = (await generate(context, false)) as Array<{ filename: string; content: string }>;
    expect(outputs, "codegen.yml generates one file").toHaveLength(1);
    const generated = new Map(outputs.map((output) => [relative(root, resolve(root, output.filename)), output.content]));
    const onDisk = readdirSync(join(root, "test/__generated__")).map((name) => join("test/__generated__", name));
    expect([...generated.keys()].sort(), "test/__generated__ holds exactly the codegen outputs").toEqual(onDisk.sort());
    for (const [path, content] of generated) {
      expect(readFileSync(join(root, path), "utf8"), `${path} is stale: run \`npm run codegen\``).toBe(content);
    }
  });
});
