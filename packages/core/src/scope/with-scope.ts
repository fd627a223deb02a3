import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallScope } from './scope';

const storage = new AsyncLocalStorage<Readonly<CallScope>>();

/**
 * Runs `fn` with `scope` attributed to every LLM call made inside it, across awaits.
 * Nested scopes merge: inner fields override outer ones, unset fields are inherited.
 *
 * @example
 * ```ts
 * await withScope({ tenant: req.headers['x-tenant'], feature: 'summarise' }, () => handle(req));
 * ```
 */
export function withScope<T>(scope: CallScope, fn: () => T): T {
  return storage.run(mergeScopes(storage.getStore(), scope), fn);
}

/** The scope attributed to calls made here, or an empty scope outside any `withScope()`. */
export function currentScope(): Readonly<CallScope> {
  return storage.getStore() ?? EMPTY_SCOPE;
}

const EMPTY_SCOPE: Readonly<CallScope> = Object.freeze({});

/** Merges `inner` over `outer`, ignoring fields `inner` leaves undefined. */
export function mergeScopes(
  outer: Readonly<CallScope> | undefined,
  inner: CallScope | undefined,
): Readonly<CallScope> {
  if (!inner) return outer ?? EMPTY_SCOPE;
  const merged: CallScope = { ...outer };
  for (const key of ['tenant', 'user', 'feature', 'priority'] as const) {
    const value = inner[key];
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return Object.freeze(merged);
}
