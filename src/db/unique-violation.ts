import { UniqueConstraintViolationException } from "@mikro-orm/core";

/**
 * Whether a failed write broke a unique index: MikroORM's exception for its own statements, or the
 * driver's error for the `Sql` layer's (better-sqlite3's SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY,
 * PostgreSQL's 23505).
 */
export function isUniqueViolation(error: unknown): boolean {
  if (error instanceof UniqueConstraintViolationException) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/**
 * For `.catch()` on a write that a unique index guards: a violation becomes the caller's own error
 * (what its pre-check would have said, had it not raced a concurrent writer); anything else passes.
 */
export function rethrowUniqueAs(error: () => Error): (cause: unknown) => never {
  return (cause) => {
    throw isUniqueViolation(cause) ? error() : cause;
  };
}
