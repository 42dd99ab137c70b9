import { GraphQLError, Kind, type ASTNode, type FragmentDefinitionNode, type ValidationContext, type ValidationRule } from "graphql";

/** Refuses operations nested deeper than `maxDepth` selections (fragments followed, cycles cut). */
export function depthLimit(maxDepth: number): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const depthOf = (node: ASTNode, depth: number, seen: Set<string>): number => {
      if (depth > maxDepth) return depth;
      switch (node.kind) {
        case Kind.OPERATION_DEFINITION:
        case Kind.INLINE_FRAGMENT:
        case Kind.FRAGMENT_DEFINITION:
          return Math.max(depth, ...node.selectionSet.selections.map((s) => depthOf(s, depth, seen)));
        case Kind.FIELD:
          return node.selectionSet
            ? Math.max(depth + 1, ...node.selectionSet.selections.map((s) => depthOf(s, depth + 1, seen)))
            : depth + 1;
        case Kind.FRAGMENT_SPREAD: {
          const name = node.name.value;
          const fragment = fragments.get(name);
          if (!fragment || seen.has(name)) return depth;
          return depthOf(fragment, depth, new Set([...seen, name]));
        }
        default:
          return depth;
      }
    };
    return {
      OperationDefinition(node) {
        if (depthOf(node, 0, new Set()) > maxDepth) {
          context.reportError(new GraphQLError(`The operation is nested deeper than ${maxDepth} levels.`, { nodes: [node] }));
        }
      },
    };
  };
}
