import { type Context, context, createContextKey } from '@opentelemetry/api';

const ACTIVE_CALL_KEY = createContextKey('tollgate.guarded-call');

/**
 * What code deeper in the SDK (each HTTP attempt) needs of the call it belongs to. Declared
 * here, not taken from `GuardedCall`, so this file depends on nothing the call gate defines.
 */
export interface ActiveCall {
  /** One HTTP attempt finished: counts it and feeds its rate-limit headers back to the limiter. */
  recordAttempt(headers: Headers | undefined, statusCode?: number): void;
  /** A reply from the response cache to return instead of making the attempt; undefined sends it. */
  cachedResponse?(): Response | undefined;
  /** Sees an attempt's response; returns the response the SDK reads (the same bytes, recorded for the cache). */
  responseReceived?(response: Response): Response;
}

/** A context carrying `call`, so code deeper in the SDK (each HTTP attempt) can find the call it belongs to. */
export function withActiveCall(parent: Context, call: ActiveCall): Context {
  return parent.setValue(ACTIVE_CALL_KEY, call);
}

/** The guarded call whose request is being made in the active context, if any. */
export function activeGuardedCall(): ActiveCall | undefined {
  return context.active().getValue(ACTIVE_CALL_KEY) as ActiveCall | undefined;
}

/** The shape of the SDKs' per-attempt fetch (`fetchWithTimeout` on the client class). */
export type AttemptFetch = (this: unknown, ...args: unknown[]) => Promise<Response>;

/**
 * Wraps an SDK's per-attempt fetch so every HTTP attempt of a gated call (the SDKs retry
 * inside `create()`) is counted and its rate-limit headers are fed back to the limiter; a call
 * answered from the response cache gets the stored reply here instead of a request.
 * Requests made outside a gated call pass through untouched.
 */
export function observeAttempts(original: AttemptFetch): AttemptFetch {
  return function fetchWithTimeout(this: unknown, ...args: unknown[]): Promise<Response> {
    const call = activeGuardedCall();
    if (!call) return original.apply(this, args);
    // A cache hit: nothing goes out, and the stored headers say nothing about today's limits.
    const cached = call.cachedResponse?.();
    if (cached) return Promise.resolve(cached);
    // A plain `then` rather than an async function: one promise per attempt instead of three.
    return original.apply(this, args).then(
      (response) => {
        call.recordAttempt(response.headers, response.status);
        return call.responseReceived ? call.responseReceived(response) : response;
      },
      (error: unknown) => {
        call.recordAttempt(undefined);
        throw error;
      },
    );
  };
}

/**
 * Wraps an SDK's request function that resolves to the HTTP response (for SDKs whose attempts
 * have no per-attempt fetch to hook, such as `@google/genai`'s `apiCall`): a call answered from
 * the response cache gets the stored reply instead of a request, and a call to be stored has its
 * reply recorded. Attempts are not counted here; the instrumentation counts them itself.
 */
export function replayAttempts(original: AttemptFetch): AttemptFetch {
  return function replayingRequest(this: unknown, ...args: unknown[]): Promise<Response> {
    const call = activeGuardedCall();
    const cached = call?.cachedResponse?.();
    if (cached) return Promise.resolve(cached);
    const sent = original.apply(this, args);
    const received = call?.responseReceived?.bind(call);
    return received ? sent.then(received) : sent;
  };
}
