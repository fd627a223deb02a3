import type { APIPromiseConstructor, APIPromiseParts } from './gated-api-promise';

/** Whether `value` is a promise (or thenable): the SDKs' types allow `post()` options to be one. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/**
 * The SDK's own `APIPromise`, returned at once, for a request that can only be started later:
 * once `ready` resolves, `start(value)` makes the request (gated or not) and this promise follows
 * it. Used for a `post()` whose options are still a promise, which the SDKs' types allow.
 */
export function deferredAPIPromise<P extends APIPromiseParts, T>(
  APIPromise: APIPromiseConstructor<P>,
  client: unknown,
  ready: PromiseLike<T>,
  start: (value: T) => APIPromiseParts,
): P {
  let inner: APIPromiseParts | undefined;
  const responsePromise = Promise.resolve(ready).then((value) => {
    inner = start(value);
    return inner.responsePromise;
  });
  // Lazy like the SDK's own promise: an unread rejection must not crash the process.
  responsePromise.catch(() => {});
  return new APIPromise(client, responsePromise, (sdkClient, props) =>
    inner!.parseResponse(sdkClient, props),
  );
}
