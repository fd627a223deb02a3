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

const claimedCalls = new WeakSet<GuardedCall>();

/**
 * The guarded call whose request is being sent in the active context, when no request has
 * claimed it yet; claims it. A request-level gate uses it to recognise the one request an outer
 * gate (e.g. on `messages.create()`) has already admitted, and to gate any other request made
 * further down the same context.
 */
export function claimActiveGuardedCall(): GuardedCall | undefined {
  const call = activeGuardedCall();
  if (!call || claimedCalls.has(call)) return undefined;
  claimedCalls.add(call);
  return call;
}

/**
 * Runs the admitted call's own request, then claims the call if nothing below did (a Tollgate
 * gate lower in the same method's chain claims it as the request passes): any other request made
 * later in the call's context is a new call, to be gated.
 */
export function sendAdmitted<T>(send: () => T): T {
  try {
    return send();
  } finally {
    claimActiveGuardedCall();
  }
}

/** The shape of the SDKs' per-attempt fetch (`fetchWithTimeout` on the client class). */
export type AttemptFetch = (this: unknown, ...args: unknown[]) => Promise<Response>;

/**
 * Wraps an SDK's per-attempt fetch so every HTTP attempt of a gated call (the SDKs retry
 * inside `create()`) is counted and its rate-limit headers are fed back to the limiter.
 * Requests made outside a gated call pass through untouched.
 */
export function observeAttempts(original: AttemptFetch): AttemptFetch {
  return function fetchWithTimeout(this: unknown, ...args: unknown[]): Promise<Response> {
    const call = activeGuardedCall();
    if (!call) return original.apply(this, args);
    // A plain `then` rather than an async function: one promise per attempt instead of three.
    return original.apply(this, args).then(
      (response) => {
        call.recordAttempt(response.headers, response.status);
        return response;
      },
      (error: unknown) => {
        call.recordAttempt(undefined);
        throw error;
      },
    );
  };
}
