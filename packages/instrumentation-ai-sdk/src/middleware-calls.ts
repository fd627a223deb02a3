import { activeGuardedCall, type GuardedCall } from '@tollgate/core/instrumentation';

/*
 * A call `tollgateMiddleware()` admitted for a model whose `doGenerate` reaches a patched prototype
 * only later (another middleware in between awaits first): core's admitted-request marker covers
 * requests sent synchronously, so the middleware also marks its call here, and the prototype hook
 * lets the first model call made in that call's context through instead of gating it again.
 */

/** Shared by every copy of this package (ESM and CommonJS builds): the middleware and the hook may load different copies. */
const KEY = Symbol.for('tollgate.instrumentation-ai-sdk.middleware-calls');
const shared = globalThis as Record<symbol, WeakSet<object> | undefined>;
shared[KEY] ??= new WeakSet<object>();
const pending = shared[KEY];

/** The middleware is about to run the wrapped model for `call`. */
export function markMiddlewareCall(call: GuardedCall): void {
  pending.add(call);
}

/** Whether the model call being made belongs to a middleware call that has not reached a model yet; claims it. */
export function claimMiddlewareCall(): boolean {
  const active = activeGuardedCall();
  if (!active || !pending.has(active)) return false;
  pending.delete(active);
  return true;
}
