import { type ActiveCall, activeGuardedCall } from './active-call';

/*
 * One gate per call when Tollgate gates at two layers of one SDK (Anthropic: `messages.create()`,
 * with a floor at the client's `post()`), or when two copies of a gate stack. The gate that
 * admits a call sends its request through `sendAdmitted()`; a gate further down recognises that
 * request with `claimAdmittedRequest()` and lets it pass. Every other request — including one
 * made later inside the admitted call's context (a custom `fetch`, a middleware) — is a call of
 * its own and is gated.
 */

interface AdmittedRequests {
  /** The call whose request is being sent right now, synchronously (works without a context manager). */
  sending: ActiveCall | undefined;
  /** Calls whose request has gone out. */
  claimed: WeakSet<ActiveCall>;
}

/** Shared by every copy of core (ESM and CommonJS builds): the two layers may load different copies. */
const SHARED = Symbol.for('tollgate.admitted-requests');
const shared = globalThis as Record<symbol, AdmittedRequests | undefined>;
shared[SHARED] ??= { sending: undefined, claimed: new WeakSet() };
const state = shared[SHARED];

function claim(call: ActiveCall | undefined): boolean {
  if (!call || state.claimed.has(call)) return false;
  state.claimed.add(call);
  return true;
}

/**
 * Runs `send`, the original request of the admitted `call`, marking it as that call's request
 * for any Tollgate gate it passes on the way; afterwards the call counts as sent.
 */
export function sendAdmitted<T>(call: ActiveCall, send: () => T): T {
  const outer = state.sending;
  state.sending = call;
  try {
    return send();
  } finally {
    state.sending = outer;
    claim(call);
  }
}

/**
 * Whether the request a gate is looking at is one an outer gate already admitted — the request
 * being sent synchronously by `sendAdmitted()`, or the first request made in an admitted call's
 * context — and claims it: a second request there is a new call.
 */
export function claimAdmittedRequest(): boolean {
  return claim(state.sending) || claim(activeGuardedCall());
}
