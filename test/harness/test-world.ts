import { afterAll, beforeAll } from "vitest";
import { createWorld, type World, type WorldOptions } from "./fixtures.js";
import { startTestApp, type TestApp, type TestAppOptions } from "./test-app.js";

export interface TestWorld {
  /** The running app (filled in by the `beforeAll` this helper registered). */
  readonly t: TestApp;
  /** The bootstrapped world on it. */
  readonly world: World;
}

export interface TestWorldOptions {
  /** How to start the app (environment, query hook, ...). */
  app?: TestAppOptions;
  /** How to build the world. */
  world?: WorldOptions;
}

/**
 * The usual setup of a test file (or of a `describe` block): a real app on a fresh database and a
 * bootstrapped world on it. Registers its own `beforeAll` (start, create the world) and `afterAll`
 * (close) in the calling scope, so call it at the top level of the file or of a `describe`.
 *
 * `t` and `world` are stand-ins, filled in once `beforeAll` has run: reading them sooner (e.g. at
 * the file's top level) throws. Later `beforeAll` hooks of the same scope already see them filled.
 *
 * ```ts
 * const { t, world } = useTestWorld({ app: { env: { WEBHOOK_WORKER: "false" } } });
 * ```
 */
export function useTestWorld(options: TestWorldOptions = {}): TestWorld {
  let app: TestApp | undefined;
  let world: World | undefined;
  beforeAll(async () => {
    app = await startTestApp(options.app);
    world = await createWorld(app, options.world);
  });
  afterAll(async () => {
    await app?.close();
  });
  return {
    t: standIn(() => app, "the test app"),
    world: standIn(() => world, "the test world"),
  };
}

/** An object that forwards everything to `current()`, which must be set by the time it is used. */
function standIn<T extends object>(current: () => T | undefined, what: string): T {
  const target = (): T => {
    const value = current();
    if (!value) throw new Error(`${what} is used before useTestWorld's beforeAll has run (read it inside a hook or a test)`);
    return value;
  };
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(target(), key),
    has: (_, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      // The proxy's own target is an empty extensible object: report the property as configurable.
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
