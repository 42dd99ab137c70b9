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

  it("test/__generated__, console/src/generated and packages/client/src/generated are what `npm run codegen` generates", { timeout: 60_000 }, async () => {
    const context = await loadContext(join(root, "codegen.yml"));
    context.cwd = root;
    // generate()'s declared return type is loose (its own FIXME); to memory it returns the outputs.
    const outputs = (await generate(context, false)) as Array<{ filename: string; content: string }>;
    const generated = new Map(outputs.map((output) => [relative(root, resolve(root, output.filename)), output.content]));
    for (const directory of ["test/__generated__", "console/src/generated", "packages/client/src/generated"]) {
      const onDisk = readdirSync(join(root, directory)).map((name) => join(directory, name));
      const fromCodegen = [...generated.keys()].filter((path) => path.startsWith(`${directory}/`));
      expect(fromCodegen.sort(), `${directory} holds exactly the codegen outputs`).toEqual(onDisk.sort());
    }
    expect(generated.size, "codegen.yml generates the tests' operations, the console's and the client SDK's two files").toBe(4);
    for (const [path, content] of generated) {
      expect(readFileSync(join(root, path), "utf8"), `${path} is stale: run \`npm run codegen\``).toBe(content);
    }
  });
});
