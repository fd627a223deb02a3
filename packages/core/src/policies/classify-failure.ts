import type { CallFailure } from './circuit-breaker';

/**
 * Sorts a failed call's error into what a circuit breaker counts: server errors, timeouts
 * and 429s are the provider's trouble; 4xx and cancellations are not.
 */
export function classifyFailure(error: unknown): CallFailure {
  // `statusCode` is the Vercel AI SDK's APICallError's name for it.
  const carrier = error as { status?: unknown; statusCode?: unknown } | undefined;
  const status = carrier?.status ?? carrier?.statusCode;
  // The class name (openai's APIUserAbortError) or the `name` an SDK sets on a plain Error or a
  // DOMException (fetch's AbortError, AbortSignal.timeout()'s TimeoutError, AWS's AbortError).
  const name = error instanceof Error ? `${error.constructor.name} ${error.name}` : '';
  if (/Abort/i.test(name)) return 'cancelled';
  if (/Timeout/i.test(name)) return 'timeout';
  if (typeof status === 'number') {
    if (status === 429) return 'rate_limited';
    if (status === 408) return 'timeout';
    if (status >= 400 && status < 500) return 'client_error';
  }
  return 'server_error';
}
