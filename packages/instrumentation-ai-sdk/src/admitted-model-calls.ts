import { activeGuardedCall, type GuardedCall } from '@tollgate/core/instrumentation';

/*
 * A call one Tollgate gate admitted whose model call may reach another Tollgate gate later, not
 * synchronously: a `tollgateMiddleware()` whose model is a patched one behind another middleware
 * (which awaits first), or a substitute model that is itself wrapped. Core's admitted-request
 * marker covers requests sent synchronously, so the admitting gate also marks its call here, and
 * the first AI SDK gate reached in that call's context lets the model call through instead of
 * gating it again.
 */

/** Shared by every copy of this package (ESM and CommonJS builds): the two gates may load different copies. */
const KEY = Symbol.for('tollgate.instrumentation-ai-sdk.admitted-model-calls');
const shared = globalThis as Record<symbol, WeakSet<object> | undefined>;
shared[KEY] ??= new WeakSet<object>();
const pending = shared[KEY];

/** `call` is admitted and about to run its model. */
export function markAdmittedModelCall(call: GuardedCall): void {
  pending.add(call);
}

/** Whether the model call being made belongs to an admitted call that has not reached a gate yet; claims it. */
export function claimAdmittedModelCall(): boolean {
  const active = activeGuardedCall();
  if (!active || !pending.has(active)) return false;
  pending.delete(active);
  return true;
}
