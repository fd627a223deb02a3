import { type Context, context, createContextKey } from '@opentelemetry/api';
import type { GuardedCall } from './call-gate';

const GUARDED_CALL_KEY = createContextKey('tollgate.guarded-call');

/** A context carrying `call`, so code deeper in the SDK (each HTTP attempt) can find the call it belongs to. */
export function withGuardedCall(parent: Context, call: GuardedCall): Context {
  return parent.setValue(GUARDED_CALL_KEY, call);
}

/** The guarded call whose request is being made in the active context, if any. */
export function activeGuardedCall(): GuardedCall | undefined {
  return context.active().getValue(GUARDED_CALL_KEY) as GuardedCall | undefined;
}

/** The shape of the SDKs' per-attempt fetch (`fetchWithTimeout` on the client class). */
export type AttemptFetch = (this: unknown, ...args: unknown[]) => Promise<Response>;

/**
 * Wraps an SDK's per-attempt fetch so every HTTP attempt of a gated call (the SDKs retry
 * inside `create()`) is counted and its rate-limit headers are fed back to the limiter.
 * Requests made outside a gated call pass through untouched.
 */
export function observeAttempts(original: AttemptFetch): AttemptFetch {
  return async function fetchWithTimeout(this: unknown, ...args: unknown[]): Promise<Response> {
    const call = activeGuardedCall();
    if (!call) return original.apply(this, args);
    try {
      const response = await original.apply(this, args);
      call.recordAttempt(response.headers, response.status);
      return response;
    } catch (error) {
      call.recordAttempt(undefined);
      throw error;
    }
  };
}
