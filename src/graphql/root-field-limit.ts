import { GraphQLError, Kind, type SelectionSetNode, type ValidationContext, type ValidationRule } from "graphql";

/**
 * Refuses an operation that selects the same root field under more than `maxRepeats` response keys
 * (`a: verifyAuditLog(…) b: verifyAuditLog(…) …`): each one runs its resolver again. Fields with the
 * same response key merge into one execution, so they count once. graphql-armor has no such rule.
 * Linear: each fragment's root selections are read at most once per operation.
 */
export function rootFieldRepeatLimit(maxRepeats: number): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      // Only the root type's own fields: an unknown one is refused anyway, and is not echoed here.
      const rootFields = context.getSchema().getRootType(operation.operation)?.getFields() ?? {};
      const responseKeys = new Map<string, Set<string>>();
      const expanded = new Set<string>();
      const collect = (selectionSet: SelectionSetNode): void => {
        for (const selection of selectionSet.selections) {
          if (selection.kind === Kind.FIELD) {
            const name = selection.name.value;
            if (!Object.hasOwn(rootFields, name)) continue;
            const keys = responseKeys.get(name) ?? new Set<string>();
            keys.add(selection.alias?.value ?? name);
            responseKeys.set(name, keys);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            collect(selection.selectionSet);
          } else if (!expanded.has(selection.name.value)) {
            expanded.add(selection.name.value);
            const fragment = context.getFragment(selection.name.value);
            if (fragment) collect(fragment.selectionSet);
          }
        }
      };
      collect(operation.selectionSet);
      for (const [name, keys] of responseKeys) {
        if (keys.size > maxRepeats) {
          context.reportError(new GraphQLError(`The operation selects the root field "${name}" more than ${maxRepeats} times.`, { nodes: [operation] }));
          return;
        }
      }
    },
  });
}
