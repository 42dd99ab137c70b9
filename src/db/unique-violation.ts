import { UniqueConstraintViolationException } from "@mikro-orm/core";

/**
 * For `.catch()` on a write that a unique index guards: a violation becomes the caller's own error
 * (what its pre-check would have said, had it not raced a concurrent writer); anything else passes.
 */
export function rethrowUniqueAs(error: () => Error): (cause: unknown) => never {
  return (cause) => {
    throw cause instanceof UniqueConstraintViolationException ? error() : cause;
  };
}
