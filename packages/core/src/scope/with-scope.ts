import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallScope } from './scope';

/**
 * One store per process, not per copy of this module: an app run with `--import` loads the ESM
 * build of core while its own `require('@tollgate/core')` loads the CommonJS build, and a scope
 * set through one copy must reach calls gated by the other.
 */
const STORAGE_KEY = Symbol.for('tollgate.core.scope-storage.v1');
const storage = sharedStorage();

function sharedStorage(): AsyncLocalStorage<Readonly<CallScope>> {
  const registry = globalThis as Record<symbol, AsyncLocalStorage<Readonly<CallScope>> | undefined>;
  registry[STORAGE_KEY] ??= new AsyncLocalStorage<Readonly<CallScope>>();
  return registry[STORAGE_KEY];
}

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
  for (const key of ['tenant', 'user', 'feature', 'priority', 'cache'] as const) {
    const value = inner[key];
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return Object.freeze(merged);
}
