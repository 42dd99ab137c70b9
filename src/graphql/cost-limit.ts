import {
  GraphQLError,
  isInterfaceType,
  isObjectType,
  Kind,
  getNamedType,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

export interface CostLimitOptions {
  maxCost: number;
  /** What a connection returns when `first` is absent. */
  defaultPageSize: number;
  /** The largest `first` a connection accepts: what `first: $variable` is counted as. */
  maxPageSize: number;
}

/**
 * Refuses an operation whose estimated cost exceeds `maxCost`. Every field costs 1; a field that
 * takes `first` (a connection) multiplies the cost of its selections by the page it may return.
 *
 * Hand-written rather than graphql-armor's cost-limit, which counts `first` only when it is written
 * as a literal (`first: $n` costs as if it returned one item, so a variable slips past the limit);
 * validation runs before variables are known, so a variable counts as the largest page it may ask
 * for. Linear in the document's size: each fragment's cost is computed once and reused at every
 * spread.
 */
export function costLimit(options: CostLimitOptions): ValidationRule {
  return (context: ValidationContext) => {
    const schema = context.getSchema();
    const fragmentCosts = new Map<string, number>();

    const pageOf = (field: FieldNode, definition: GraphQLField<unknown, unknown> | undefined): number => {
      const first = field.arguments?.find((argument) => argument.name.value === "first");
      if (first?.value.kind === Kind.INT) return Math.max(1, Number(first.value.value));
      if (first?.value.kind === Kind.VARIABLE) return options.maxPageSize;
      const takesFirst = definition?.args.some((argument) => argument.name === "first") ?? false;
      return takesFirst ? options.defaultPageSize : 1;
    };

    const costOfFragment = (name: string): number => {
      const known = fragmentCosts.get(name);
      if (known !== undefined) return known;
      // A cycle (refused by graphql-js's own NoFragmentCyclesRule) costs nothing here.
      fragmentCosts.set(name, 0);
      const fragment = context.getFragment(name);
      const cost = fragment ? costOfSelections(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined) : 0;
      fragmentCosts.set(name, cost);
      return cost;
    };

    const costOfSelections = (selectionSet: SelectionSetNode, parentType: GraphQLNamedType | undefined): number => {
      let cost = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const definition = isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[selection.name.value] : undefined;
          cost += 1;
          if (selection.selectionSet) {
            const childType = definition ? getNamedType(definition.type) : undefined;
            cost += pageOf(selection, definition) * costOfSelections(selection.selectionSet, childType);
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) ?? undefined) : parentType;
          cost += costOfSelections(selection.selectionSet, type);
        } else {
          cost += costOfFragment(selection.name.value);
        }
      }
      return cost;
    };

    return {
      OperationDefinition(operation) {
        const rootType = schema.getRootType(operation.operation) ?? undefined;
        if (costOfSelections(operation.selectionSet, rootType) > options.maxCost) {
          context.reportError(
            new GraphQLError(`The operation is too expensive: its estimated cost exceeds ${options.maxCost} (each field costs 1, times the page size of the lists around it).`, {
              nodes: [operation],
            }),
          );
        }
      },
    };
  };
}
