import * as operations from "@masquerade/client/operations";
import { buildSchema, Kind, parse, validate, type DocumentNode, type OperationDefinitionNode } from "graphql";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * @masquerade/client/operations holds an operation for every root field of schema.graphql (SPEC
 * §11): adding a query, mutation or subscription to the server without one in
 * packages/client/operations/ fails here.
 */
const root = resolve(import.meta.dirname, "..");
const schema = buildSchema(readFileSync(join(root, "schema.graphql"), "utf8"));
const operationsDir = join(root, "packages/client/operations");

function rootFields(): string[] {
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) =>
    type ? Object.keys(type.getFields()).map((field) => `${type.name}.${field}`) : [],
  );
}

const typeNameOf = { query: "Query", mutation: "Mutation", subscription: "Subscription" } as const;

function coveredBy(documents: DocumentNode[]): Set<string> {
  const covered = new Set<string>();
  for (const document of documents) {
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      for (const selection of definition.selectionSet.selections) {
        if (selection.kind === Kind.FIELD) covered.add(`${typeNameOf[definition.operation]}.${selection.name.value}`);
      }
    }
  }
  return covered;
}

describe("@masquerade/client/operations", () => {
  const sources = readdirSync(operationsDir).filter((name) => name.endsWith(".graphql"));
  const documents = sources.map((name) => parse(readFileSync(join(operationsDir, name), "utf8")));

  it("has an operation for every root field of schema.graphql", () => {
    const covered = coveredBy(documents);
    const missing = rootFields().filter((field) => !covered.has(field));
    expect(missing, "add an operation for these root fields to packages/client/operations/").toEqual([]);
    expect(rootFields().length).toBeGreaterThan(30);
  });

  it("exports each of them, compiled, as a TypedDocumentNode that validates against the schema", () => {
    const exported = Object.entries(operations).filter(([name]) => name.endsWith("Document")) as Array<[string, DocumentNode]>;
    const names = documents.flatMap((document) =>
      document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION).map((definition) => definition.name!.value),
    );
    expect(exported.map(([name]) => name).sort()).toEqual(names.map((name) => `${name}Document`).sort());
    for (const [name, document] of exported) {
      expect(document.kind, name).toBe(Kind.DOCUMENT);
      expect(validate(schema, document), name).toEqual([]);
    }
    expect(coveredBy(exported.map(([, document]) => document))).toEqual(coveredBy(documents));
  });

  it("the SDK's own operations validate against the schema", () => {
    const sdk = parse(readFileSync(join(root, "packages/client/src/sdk-operations.graphql"), "utf8"));
    expect(validate(schema, sdk)).toEqual([]);
  });
});
