import { GraphQLError, Kind, type ASTNode, type FragmentDefinitionNode, type ValidationContext, type ValidationRule } from "graphql";

const introspectionRoots = new Set(["__schema", "__type"]);

/**
 * Refuses operations nested deeper than `maxDepth` selections (fragments followed, cycles cut). A
 * root `__schema` or `__type` field may nest to `limits.introspection` instead (introspection itself
 * is refused in production by another rule).
 */
export function depthLimit(maxDepth: number, limits: { introspection?: number } = {}): ValidationRule {
  const introspectionDepth = limits.introspection ?? maxDepth;
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const depthOf = (node: ASTNode, depth: number, seen: Set<string>, limit: number): number => {
      if (depth > limit) return depth;
      switch (node.kind) {
        case Kind.OPERATION_DEFINITION:
        case Kind.INLINE_FRAGMENT:
        case Kind.FRAGMENT_DEFINITION:
          return Math.max(depth, ...node.selectionSet.selections.map((s) => depthOf(s, depth, seen, limit)));
        case Kind.FIELD:
          return node.selectionSet
            ? Math.max(depth + 1, ...node.selectionSet.selections.map((s) => depthOf(s, depth + 1, seen, limit)))
            : depth + 1;
        case Kind.FRAGMENT_SPREAD: {
          const name = node.name.value;
          const fragment = fragments.get(name);
          if (!fragment || seen.has(name)) return depth;
          return depthOf(fragment, depth, new Set([...seen, name]), limit);
        }
        default:
          return depth;
      }
    };
    return {
      OperationDefinition(node) {
        for (const selection of node.selectionSet.selections) {
          const introspection = selection.kind === Kind.FIELD && introspectionRoots.has(selection.name.value);
          const limit = introspection ? introspectionDepth : maxDepth;
          if (depthOf(selection, 0, new Set(), limit) > limit) {
            context.reportError(new GraphQLError(`The operation is nested deeper than ${limit} levels.`, { nodes: [node] }));
            return;
          }
        }
      },
    };
  };
}
