import type { TokenUsage } from '@tollgate/core';
import {
  type GuardedCall,
  isSdkStream,
  observeSdkStream,
  type StreamObserver,
} from '@tollgate/core/instrumentation';
import { asRecord, deltaText, foldCumulativeUsage, messageText, messageUsage, stringOf } from './utils';

/** Usage with both totals known: what a provider-sourced settlement needs. */
function isComplete(usage: TokenUsage | undefined): boolean {
  return usage?.inputTokens !== undefined && usage.outputTokens !== undefined;
}

/**
 * Settles a finished call from its parsed result. A stream is not finished yet: its iterator is
 * wrapped so the call settles when iteration ends, however it ends.
 */
export function observeResult(result: unknown, call: GuardedCall): unknown {
  if (isSdkStream(result)) {
    // Every consumer of the SDK's Stream starts from its iterator: observing that covers them all.
    observeSdkStream(result, streamObserver(call));
    return result;
  }
  const message = asRecord(result);
  if (!message) {
    call.complete(undefined, 'provider');
    return result;
  }
  const stopReason = stringOf(message.stop_reason);
  call.recordResponse({
    id: stringOf(message.id),
    model: stringOf(message.model),
    finishReasons: stopReason ? [stopReason] : undefined,
  });
  const provided = messageUsage(message.usage);
  if (provided && isComplete(provided)) {
    call.complete(provided, 'provider');
    return result;
  }
  // Malformed or missing usage: keep what the provider did say, count what came back, and take
  // the pre-call estimate for the input.
  const text = messageText(message);
  call.complete(
    {
      ...provided,
      inputTokens: provided?.inputTokens ?? call.admission.estimate.estimatedInputTokens,
      outputTokens: provided?.outputTokens ?? (text ? call.admission.countOutputTokens(text) : 0),
    },
    'local-count',
  );
  return result;
}

/**
 * Follows a Messages event stream as it passes and settles once when it ends.
 *
 * `message_start` reports the input (and cache) tokens and a placeholder output count;
 * `message_delta` reports running totals — the final output count, and input figures when they
 * changed — so each value replaces the one before, never adds to it. A stream that ends before
 * `message_delta` (the caller broke off, the connection dropped) is settled from the output text
 * counted here, never below what the provider had already reported.
 */
function streamObserver(call: GuardedCall): StreamObserver<unknown> {
  const pieces: string[] = [];
  let usage: Record<string, unknown> = {};
  let stopReason: string | undefined;
  let sawStart = false;
  let sawMessageDelta = false;
  let sawStop = false;

  const onEvent = (event: Record<string, unknown>): void => {
    switch (event.type) {
      case 'message_start': {
        sawStart = true;
        const message = asRecord(event.message);
        call.recordResponse({ id: stringOf(message?.id), model: stringOf(message?.model) });
        usage = foldCumulativeUsage({}, message?.usage);
        return;
      }
      case 'content_block_start': {
        const block = asRecord(event.content_block);
        if (block?.type === 'tool_use' || block?.type === 'server_tool_use') {
          if (typeof block.name === 'string') pieces.push(block.name);
        } else if (block?.type === 'fallback') {
          // The model named here produces the rest of the message.
          call.recordResponse({ model: stringOf(asRecord(block.to)?.model) });
        }
        return;
      }
      case 'content_block_delta': {
        call.recordFirstChunk();
        const text = deltaText(asRecord(event.delta));
        if (text) pieces.push(text);
        return;
      }
      case 'message_delta': {
        sawMessageDelta = true;
        usage = foldCumulativeUsage(usage, event.usage);
        stopReason = stringOf(asRecord(event.delta)?.stop_reason) ?? stopReason;
        return;
      }
      case 'message_stop':
        sawStop = true;
        return;
      default:
        return;
    }
  };

  return {
    onItem(item) {
      const event = asRecord(item);
      if (event) onEvent(event);
      return true;
    },
    onEnd(outcome, error) {
      if (stopReason) call.recordResponse({ finishReasons: [stopReason] });
      const reported = messageUsage(usage);
      // Only `message_delta` carries the final output count; before it the figures are placeholders.
      const final = sawMessageDelta && isComplete(reported) ? reported : undefined;
      if (outcome === 'error') {
        const billed = sawStart || pieces.length > 0;
        call.fail(error, billed ? (final ?? localUsage(call, pieces, reported)) : undefined);
        return;
      }
      // A stream that ends without `message_stop` was cut short: the caller broke off or aborted.
      const interrupted = !sawStop;
      if (final) {
        call.complete(final, 'provider', { interrupted });
        return;
      }
      call.complete(localUsage(call, pieces, reported), 'local-count', { interrupted });
    },
  };
}

/**
 * Usage of a stream the provider did not finish reporting: its input figures as far as they
 * were reported (else the pre-call estimate), and output counted from the streamed text, never
 * below the provider's last output count.
 */
function localUsage(
  call: GuardedCall,
  pieces: readonly string[],
  reported: TokenUsage | undefined,
): TokenUsage {
  const counted = pieces.length > 0 ? call.admission.countOutputTokens(pieces.join('')) : 0;
  return {
    inputTokens: reported?.inputTokens ?? call.admission.estimate.estimatedInputTokens,
    outputTokens: Math.max(counted, reported?.outputTokens ?? 0),
    cacheReadInputTokens: reported?.cacheReadInputTokens,
    cacheWriteInputTokens: reported?.cacheWriteInputTokens,
  };
}
