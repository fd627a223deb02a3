import type { TokenUsage } from '@tollgate/core';
import { type GuardedCall, observeSdkStream, type StreamObserver } from '@tollgate/core/instrumentation';

/**
 * Makes `observer` see every event of the SDK's event stream (`output.stream`, `output.body`)
 * as the caller iterates it, on the SDK's own object: its async iterator is the one thing
 * replaced, so every event is handed on in the same microtask chain, none is delayed.
 */
export function observeEventStream(stream: unknown, observer: StreamObserver<unknown>): boolean {
  const iterable = stream as AsyncIterable<unknown> | null | undefined;
  const source = iterable?.[Symbol.asyncIterator];
  if (typeof source !== 'function') return false;
  // The kit observes a Stainless-style `iterator()`; the event stream is a plain async iterable.
  const adapter = { iterator: () => source.call(iterable) as AsyncIterator<unknown> };
  observeSdkStream(adapter, observer);
  Object.defineProperty(iterable, Symbol.asyncIterator, {
    value: () => adapter.iterator(),
    writable: true,
    configurable: true,
  });
  return true;
}

/** What a stream observer collected, for settling a stream the provider did not finish reporting. */
export interface StreamProgress {
  /** Generated text seen so far (text, tool-use arguments, reasoning). */
  pieces: string[];
  /** Whether any output event arrived: a stream that broke after it is billed. */
  sawOutput: boolean;
}

/**
 * Settles a finished reply: to the provider's usage when it reported one, else to the estimated
 * input and the output counted from the reply's text.
 */
export function settleReply(
  call: GuardedCall,
  usage: TokenUsage | undefined,
  text: string | undefined,
): void {
  if (usage) {
    call.complete(usage, 'provider');
    return;
  }
  call.complete(
    {
      inputTokens: call.admission.estimate.estimatedInputTokens,
      outputTokens: text ? call.admission.countOutputTokens(text) : 0,
    },
    'local-count',
  );
}

/**
 * Settles a stream that ended without the provider's usage. A stream that failed (an abort
 * resets the HTTP/2 stream) is billed for what was generated: counted from the text seen. A
 * caller that stopped iterating did not stop the request — Bedrock keeps generating and bills
 * the whole reply — so its output is left unknown and settles at the reserved worst case.
 */
export function settleUnreported(
  call: GuardedCall,
  progress: StreamProgress,
  outcome: 'completed' | 'interrupted' | 'error',
  error: unknown,
  options: { finished: boolean },
): void {
  const counted = (): TokenUsage => ({
    inputTokens: call.admission.estimate.estimatedInputTokens,
    outputTokens: progress.pieces.length > 0 ? call.admission.countOutputTokens(progress.pieces.join('')) : 0,
  });
  if (outcome === 'error') {
    call.fail(error, progress.sawOutput ? counted() : undefined);
    return;
  }
  if (outcome === 'interrupted' && !options.finished) {
    call.complete(
      { inputTokens: call.admission.estimate.estimatedInputTokens, outputTokens: undefined },
      'local-count',
      {
        interrupted: true,
      },
    );
    return;
  }
  call.complete(counted(), 'local-count', { interrupted: !options.finished });
}
