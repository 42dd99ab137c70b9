import type { SqlValue } from "./database.js";

/** A list's order: columns (qualified as the statement needs, e.g. `s.started_at`), all one way. */
export interface KeysetOrder {
  columns: readonly string[];
  direction: "asc" | "desc";
}

/**
 * Keyset pagination, written once: the condition that keeps the rows strictly after `after` (the
 * cursor's values, one per column) in `order`, and the `order by` clause. With no cursor the
 * condition is `1 = 1`. For (a, b) descending after (x, y): `(a < x or (a = x and b < y))`.
 */
export function keyset(order: KeysetOrder, after: readonly SqlValue[] | null): { where: string; params: SqlValue[]; orderBy: string } {
  const orderBy = `order by ${order.columns.map((column) => `${column} ${order.direction}`).join(", ")}`;
  if (!after) return { where: "1 = 1", params: [], orderBy };
  if (after.length !== order.columns.length) throw new Error("a cursor must carry one value per ordered column");
  const comparison = order.direction === "asc" ? ">" : "<";
  const alternatives: string[] = [];
  const params: SqlValue[] = [];
  order.columns.forEach((column, index) => {
    const equal = order.columns.slice(0, index).map((previous) => `${previous} = ?`);
    alternatives.push(`(${[...equal, `${column} ${comparison} ?`].join(" and ")})`);
    params.push(...after.slice(0, index), after[index]!);
  });
  return { where: `(${alternatives.join(" or ")})`, params, orderBy };
}
