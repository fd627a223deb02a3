/** How an observed stream ended. */
export type StreamOutcome =
  /** The source ran to its end. */
  | 'completed'
  /**
   * The consumer stopped early (`break`, `return()`). A source that ends quietly on abort reports
   * `completed`: only the SDK-specific observer can tell it fell short (e.g. no final event).
   */
  | 'interrupted'
  /** The source threw. */
  | 'error';

export interface StreamObserver<T> {
  /**
   * Sees each item before the consumer does; must be cheap and must not throw.
   * Return `false` to keep the item from the consumer (e.g. a usage chunk it never asked for).
   */
  onItem(item: T): boolean;
  /** Called exactly once, when iteration ends for any reason. */
  onEnd(outcome: StreamOutcome, error?: unknown): void;
}

/**
 * Wraps an async iterator so `observer` sees every item as it passes. Items are handed on
 * in the same microtask chain they arrive in — no buffering, no timers — so no chunk is
 * delayed. Early `break` is passed through to the source so it can stop downloading.
 */
export async function* observeIterator<T>(
  source: AsyncIterator<T>,
  observer: StreamObserver<T>,
): AsyncGenerator<T> {
  let outcome: StreamOutcome = 'interrupted';
  let failure: unknown;
  try {
    while (true) {
      const next = await source.next();
      if (next.done) {
        outcome = 'completed';
        return;
      }
      if (observer.onItem(next.value)) yield next.value;
    }
  } catch (error) {
    outcome = 'error';
    failure = error;
    throw error;
  } finally {
    try {
      if (outcome === 'interrupted') await source.return?.();
    } finally {
      observer.onEnd(outcome, failure);
    }
  }
}
