import type { EntityClass } from "@mikro-orm/core";

type Fields<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };

/**
 * An instance of an entity class outside any unit of work, with `values` as own data properties.
 * `new Entity()` and plain assignment go through the accessors MikroORM puts on entity prototypes
 * to track changes, which costs a tracking helper per object; rows read or written with
 * hand-written SQL need none of it.
 */
export function detachedEntity<T extends object>(entity: EntityClass<T>, values: Partial<Fields<T>>): T {
  const result = Object.create(entity.prototype as object) as T;
  for (const [key, value] of Object.entries(values)) {
    Object.defineProperty(result, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return result;
}
