import type { TokenUsage } from '@tollgate/core';
import type { GuardedCall } from '@tollgate/core/instrumentation';
import { recordResponse, safely } from './result-observers';
import { aiSdkUsage, asRecord } from './utils';

/** What the observer has seen of a stream so far. */
interface StreamState {
  /** Any part beyond `stream-start` arrived: the provider began answering. */
  answered: boolean;
  metadata: Record<string, unknown> | undefined;
  finish: Record<string, unknown> | undefined;
}

function observePart(part: unknown, state: StreamState, call: GuardedCall): void {
  const record = asRecord(part);
  const type = record?.type;
  if (type === 'stream-start') return;
  if (!state.answered) {
    state.answered = true;
    call.recordFirstChunk();
  }
  if (type === 'response-metadata') state.metadata = record;
  else if (type === 'finish') state.finish = record;
}

/**
 * Ends the call once, however the stream ended.
 *
 * - A `finish` part arrived: settled from its `usage`, as soon as it is handed on.
 * - No `finish` part (the consumer cancelled, or the provider's stream ended short): the provider
 *   may keep generating and billing, so the call is charged its reservation, marked interrupted.
 * - The stream errored (an abort through `abortSignal`, a dropped connection): likewise when the
 *   provider had begun answering; the reservation is released when nothing had arrived.
 */
function endCall(
  state: StreamState,
  call: GuardedCall,
  outcome: 'completed' | 'cancelled' | 'error',
  error?: unknown,
): void {
  safely('settling a stream', () => {
    if (state.metadata || state.finish) recordResponse(call, state.metadata, state.finish?.finishReason);
    const usage = state.finish ? aiSdkUsage(state.finish.usage) : undefined;
    if (outcome === 'error') {
      const nothingReported: TokenUsage = { inputTokens: undefined, outputTokens: undefined };
      call.fail(error, state.answered ? (usage ?? nothingReported) : undefined);
    } else if (state.finish) call.complete(usage, 'provider');
    else call.complete(undefined, 'provider', { interrupted: true });
  });
}

/**
 * The `doStream` result with its `stream` observed: a new `ReadableStream` that reads the
 * provider's stream one part per pull (no read-ahead, no buffering, no timers), so each part
 * reaches the AI SDK as soon as the provider produced it, and settles the call exactly once
 * when the stream ends, errors or is cancelled. Cancelling it cancels the provider's stream.
 */
export function observeStreamResult(result: unknown, call: GuardedCall): unknown {
  const record = asRecord(result);
  const source = record?.stream;
  if (!record || !(source instanceof ReadableStream)) {
    safely('settling a stream without a body', () => call.complete(undefined, 'provider'));
    return result;
  }
  const state: StreamState = { answered: false, metadata: undefined, finish: undefined };
  const reader = source.getReader();
  let ended = false;
  const end = (outcome: 'completed' | 'cancelled' | 'error', error?: unknown): void => {
    if (ended) return;
    ended = true;
    endCall(state, call, outcome, error);
  };
  const stream = new ReadableStream<unknown>(
    {
      async pull(controller) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (error) {
          end('error', error);
          controller.error(error);
          return;
        }
        if (next.done) {
          end('completed');
          controller.close();
          return;
        }
        safely('observing a stream part', () => observePart(next.value, state, call));
        controller.enqueue(next.value);
        // The finish part is the last one that matters: settle now, not when the consumer reads on.
        if (state.finish) end('completed');
      },
      cancel(reason) {
        end('cancelled');
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { ...record, stream };
}
