import type { TokenUsage } from '@tollgate/core';
import type { GuardedCall, StreamObserver } from '@tollgate/core/instrumentation';
import {
  observeEventStream,
  type StreamProgress,
  settleReply,
  settleUnreported,
} from './observed-event-stream';
import {
  asRecord,
  bedrockUsage,
  INVOCATION_METRICS_FIELDS,
  invokeBodyUsage,
  invokeText,
  parseJsonObject,
  stringOf,
} from './utils';

type Json = Record<string, unknown>;

/** A stop reason as each model family's JSON carries it (Anthropic, Nova, Llama, Mistral). */
function stopReasonOf(piece: Json): string | undefined {
  const firstOutput = Array.isArray(piece.outputs) ? asRecord(piece.outputs[0]) : undefined;
  return (
    stringOf(piece.stop_reason) ??
    stringOf(piece.stopReason) ??
    stringOf(asRecord(piece.delta)?.stop_reason) ??
    stringOf(asRecord(piece.messageStop)?.stopReason) ??
    stringOf(firstOutput?.stop_reason)
  );
}

/**
 * Settles an InvokeModel call: from the `x-amzn-bedrock-*-token-count` headers the attempt
 * middleware read, else from the model's own usage in the body, else by counting the reply.
 */
export function observeInvoke(
  result: unknown,
  call: GuardedCall,
  headerUsage: TokenUsage | undefined,
): unknown {
  const output = asRecord(result) ?? {};
  const body = parseJsonObject(output.body);
  const stopReason = body ? stopReasonOf(body) : undefined;
  call.recordResponse({
    id: stringOf(asRecord(output.$metadata)?.requestId),
    model: body ? stringOf(body.model) : undefined,
    finishReasons: stopReason ? [stopReason] : undefined,
  });
  const usage = headerUsage ?? (body ? invokeBodyUsage(body) : undefined);
  settleReply(call, usage, usage || !body ? undefined : invokeText(body));
  return result;
}

/**
 * Follows an InvokeModelWithResponseStream as the caller reads it: each `chunk` carries one piece
 * of the model's streaming JSON, the last one `amazon-bedrock-invocationMetrics` with the usage.
 */
export function observeInvokeStream(result: unknown, call: GuardedCall): unknown {
  const output = asRecord(result) ?? {};
  call.recordResponse({ id: stringOf(asRecord(output.$metadata)?.requestId) });
  if (!observeEventStream(output.body, invokeStreamObserver(call))) call.complete(undefined, 'provider');
  return result;
}

function invokeStreamObserver(call: GuardedCall): StreamObserver<unknown> {
  const progress: StreamProgress = { pieces: [], sawOutput: false };
  let stopReason: string | undefined;
  let usage: TokenUsage | undefined;

  return {
    onItem(item) {
      const piece = parseJsonObject(asRecord(asRecord(item)?.chunk)?.bytes);
      if (!piece) return true;
      const text = invokeText(piece);
      if (text) {
        call.recordFirstChunk();
        progress.sawOutput = true;
        progress.pieces.push(text);
      }
      stopReason = stopReasonOf(piece) ?? stopReason;
      const metrics = asRecord(piece['amazon-bedrock-invocationMetrics']);
      if (metrics) usage = bedrockUsage(metrics, INVOCATION_METRICS_FIELDS);
      return true;
    },
    onEnd(outcome, error) {
      if (stopReason) call.recordResponse({ finishReasons: [stopReason] });
      if (usage && outcome !== 'error') {
        call.complete(usage, 'provider');
        return;
      }
      if (usage) {
        call.fail(error, usage);
        return;
      }
      settleUnreported(call, progress, outcome, error, { finished: stopReason !== undefined });
    },
  };
}
