import { createSourceEventStream, execute, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";

type Execution = Promise<ExecutionResult> | ExecutionResult;

/**
 * graphql's `subscribe`, except that subscribers with the same document, variables and operation
 * executing the same event share one execution: a fan-out to a thousand subscribers runs the
 * selection once, not a thousand times.
 *
 * Sharing is sound because nothing in an event's selection depends on who receives it: every
 * subscriber's credential is re-checked against the same permission before the event reaches it
 * (AuditQueryService.prepareDelivery), every subscriber of one event shares the same loaders, and
 * the nested fields see only the event's own project. A field that answered differently per
 * subscriber would have to leave this path.
 */
export function createSharedSubscribe(): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const printed = new WeakMap<DocumentNode, string>();
  const executions = new WeakMap<object, Map<string, Execution>>();

  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;

    let document = printed.get(args.document);
    if (document === undefined) printed.set(args.document, (document = print(args.document)));
    const key = `${args.operationName ?? ""}\n${JSON.stringify(args.variableValues ?? {})}\n${document}`;

    return mapAsyncIterator(stream, (payload) => {
      if (typeof payload !== "object" || payload === null) return execute({ ...args, rootValue: payload });
      let byKey = executions.get(payload);
      if (!byKey) executions.set(payload, (byKey = new Map()));
      let execution = byKey.get(key);
      if (!execution) byKey.set(key, (execution = execute({ ...args, rootValue: payload })));
      return execution;
    });
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}

/**
 * Maps each value of `source` through `fn`, as graphql-js's own (internal) mapAsyncIterator does:
 * `return()` reaches the source at once, even while a `next()` is pending, so that a subscriber that
 * goes away stops listening without waiting for another event.
 */
function mapAsyncIterator<T, R>(source: AsyncIterable<T>, fn: (value: T) => Promise<R> | R): AsyncIterableIterator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async (): Promise<void> => {
    await iterator.return?.();
  };
  const mapResult = async (result: IteratorResult<T>): Promise<IteratorResult<R>> => {
    if (result.done) return result;
    try {
      return { value: await fn(result.value), done: false };
    } catch (error) {
      await close().catch(() => undefined);
      throw error;
    }
  };
  return {
    async next() {
      return mapResult(await iterator.next());
    },
    async return(): Promise<IteratorResult<R>> {
      return iterator.return ? mapResult(await iterator.return()) : { value: undefined, done: true };
    },
    async throw(error?: unknown): Promise<IteratorResult<R>> {
      if (iterator.throw) return mapResult(await iterator.throw(error));
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
