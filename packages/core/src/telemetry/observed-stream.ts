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
 *
 * A plain iterator object rather than an async generator: a generator adds several promises
 * and microtask hops per item (and, with a context manager's promise hooks enabled, each
 * one costs more); this adds one `then` per item.
 */
export function observeIterator<T>(source: AsyncIterator<T>, observer: StreamObserver<T>): AsyncGenerator<T> {
  return new ObservedIterator(source, observer);
}

class ObservedIterator<T> implements AsyncGenerator<T> {
  private ended = false;
  /** The pull in progress; a caller that does not wait for one `next()` before the next (e.g. `tee()`) is queued behind it. */
  private inFlight: Promise<IteratorResult<T>> | undefined;
  // Bound once: the per-item path allocates no closures. Assigned in the constructor, where the
  // build leaves them unnamed: a named arrow field costs a property definition per stream.
  private readonly onNext: (next: IteratorResult<T>) => IteratorResult<T> | Promise<IteratorResult<T>>;
  private readonly onError: (error: unknown) => never;
  private readonly pullAfterPrevious: () => Promise<IteratorResult<T>>;

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly observer: StreamObserver<T>,
  ) {
    this.onNext = (next) => {
      this.inFlight = undefined;
      if (next.done) {
        this.ended = true;
        this.observer.onEnd('completed');
        return next;
      }
      // An item the observer keeps from the consumer: fetch the one after it.
      return this.observer.onItem(next.value) ? next : this.next();
    };
    this.onError = (error) => {
      this.inFlight = undefined;
      throw this.failed(error);
    };
    this.pullAfterPrevious = () => this.next();
  }

  [Symbol.asyncIterator](): AsyncGenerator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.inFlight !== undefined)
      return this.inFlight.then(this.pullAfterPrevious, this.pullAfterPrevious);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    let pending: Promise<IteratorResult<T>>;
    try {
      pending = this.source.next();
    } catch (error) {
      return Promise.reject(this.failed(error));
    }
    const result = pending.then(this.onNext, this.onError);
    this.inFlight = result;
    return result;
  }

  /** The consumer stopped early: stop the source, then report the interruption. */
  async return(value?: unknown): Promise<IteratorResult<T>> {
    if (this.inFlight !== undefined) await this.inFlight.catch(() => undefined);
    if (!this.ended) {
      this.ended = true;
      try {
        await this.source.return?.();
      } finally {
        this.observer.onEnd('interrupted');
      }
    }
    return { done: true, value: value as T };
  }

  /** An error thrown into the iteration ends it as an error, as a generator's `throw()` would. */
  async throw(error?: unknown): Promise<IteratorResult<T>> {
    if (this.inFlight !== undefined) await this.inFlight.catch(() => undefined);
    throw this.failed(error);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  private failed(error: unknown): unknown {
    if (!this.ended) {
      this.ended = true;
      this.observer.onEnd('error', error);
    }
    return error;
  }
}

/** An SDK `Stream` (both SDKs): its `iterator` feeds `for await`, `tee()` and `toReadableStream()` alike. */
export interface IterableSdkStream {
  iterator: () => AsyncIterator<unknown>;
}

/** True for an SDK `Stream` rather than a parsed JSON body. */
export function isSdkStream(value: unknown): value is IterableSdkStream {
  return typeof (value as IterableSdkStream | undefined)?.iterator === 'function';
}

/**
 * Makes `observer` see every item of an SDK stream, whichever consumer reads it: every one
 * of them starts from the stream's `iterator`, so wrapping that one function covers them all.
 */
export function observeSdkStream(stream: IterableSdkStream, observer: StreamObserver<unknown>): void {
  const source = stream.iterator;
  stream.iterator = function observedIterator(this: unknown) {
    return observeIterator(source.call(this), observer);
  };
}
