/**
 * Waits the limiter bounds: by the caller's `AbortSignal`, and by time where the thing
 * waited on (a shared store) may never answer.
 */

/** The signal's reason, or a standard `AbortError` when it gave none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** `pending`, unless `signal` aborts first: then the signal's reason. */
export function abortable<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return pending;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Sleeps `ms`; an abort of `signal` ends it at once with the signal's reason. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What `withinMillis` does when the time passes first. */
export interface WithinMillisOptions {
  /** The rejection to give; by default an `Error` saying no answer came within the time. */
  timeoutError?: () => unknown;
  /** Runs after the rejection, when the caller should know the work may still finish. */
  onAbandoned?: () => void;
}

/**
 * `pending`, or a rejection once `millis` pass without an answer. The late answer (or its
 * error) is dropped: whoever asked has been told already.
 */
export function withinMillis<T>(
  pending: Promise<T>,
  millis: number,
  options: WithinMillisOptions = {},
): Promise<T> {
  const { timeoutError = () => new Error(`no answer within ${millis} ms`), onAbandoned } = options;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(timeoutError());
      onAbandoned?.();
    }, millis);
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
