import type { TokenUsage } from '@tollgate/core';
import {
  type GuardedCall,
  isSdkStream,
  observeSdkStream,
  type StreamObserver,
  stringOf,
} from '@tollgate/core/instrumentation';
import { asRecord, chatUsage, completionText, finishReasons, responsesText, responsesUsage } from './utils';

/** The operations this package gates. */
export type OpenAIOperation = 'chat' | 'responses' | 'embeddings' | 'text_completion';

export interface ObserveOptions {
  operation: OpenAIOperation;
  /** Usage was requested on the caller's behalf: drop the usage-only chunk before the caller sees it. */
  hideUsageChunk: boolean;
}

/**
 * Settles a finished call from its parsed result. A stream is not finished yet: its
 * iterator is wrapped so the call settles when iteration ends, however it ends.
 */
export function observeResult(result: unknown, call: GuardedCall, options: ObserveOptions): unknown {
  if (isSdkStream(result)) {
    // Every consumer of the SDK's Stream starts from its iterator: observing that covers them all.
    observeSdkStream(result, streamObserver(call, options));
    return result;
  }
  const body = asRecord(result);
  if (!body) {
    call.complete(undefined, 'provider');
    return result;
  }
  call.recordResponse({
    id: stringOf(body.id),
    model: stringOf(body.model),
    finishReasons: finishReasons(body),
  });
  const provided =
    options.operation === 'responses'
      ? responsesUsage(body.usage)
      : chatUsage(body.usage, options.operation === 'embeddings' ? 0 : undefined);
  if (provided) {
    call.complete(provided, 'provider');
    return result;
  }
  // Malformed or missing usage: count what came back, and take the pre-call input estimate.
  const text = options.operation === 'responses' ? responsesText(body) : completionText(body);
  call.complete(
    {
      inputTokens: call.admission.estimate.estimatedInputTokens,
      outputTokens: text ? call.admission.countOutputTokens(text) : undefined,
    },
    'local-count',
  );
  return result;
}

/** Collects what a stream says about itself as chunks pass; settles once when it ends. */
function streamObserver(call: GuardedCall, options: ObserveOptions): StreamObserver<unknown> {
  const pieces: string[] = [];
  const reasons: string[] = [];
  let usage: TokenUsage | undefined;
  let described = false;

  const describe = (id: unknown, model: unknown) => {
    if (described) return;
    described = true;
    call.recordResponse({ id: stringOf(id), model: stringOf(model) });
  };

  const onChatChunk = (chunk: Record<string, unknown>): boolean => {
    describe(chunk.id, chunk.model);
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      const entry = asRecord(choice);
      const delta = asRecord(entry?.delta);
      if (typeof delta?.content === 'string') pieces.push(delta.content);
      if (typeof delta?.refusal === 'string') pieces.push(delta.refusal);
      if (Array.isArray(delta?.tool_calls)) {
        for (const toolCall of delta.tool_calls) {
          const fn = asRecord(asRecord(toolCall)?.function);
          if (typeof fn?.name === 'string') pieces.push(fn.name);
          if (typeof fn?.arguments === 'string') pieces.push(fn.arguments);
        }
      }
      if (typeof entry?.text === 'string') pieces.push(entry.text);
      if (typeof entry?.finish_reason === 'string') reasons.push(entry.finish_reason);
    }
    if (chunk.usage) usage = chatUsage(chunk.usage) ?? usage;
    if (options.hideUsageChunk) {
      if (choices.length === 0 && chunk.usage) return false;
      // Read as absent, and left out by JSON.stringify. Not `delete`: that drops the chunk to
      // slow dictionary properties, which costs every later read of it, ours and the caller's.
      if (chunk.usage === null) chunk.usage = undefined;
    }
    return true;
  };

  const onResponsesEvent = (event: Record<string, unknown>): boolean => {
    const type = event.type;
    if (
      type === 'response.output_text.delta' ||
      type === 'response.function_call_arguments.delta' ||
      type === 'response.refusal.delta'
    ) {
      if (typeof event.delta === 'string') pieces.push(event.delta);
    } else if (type === 'response.created') {
      const response = asRecord(event.response);
      describe(response?.id, response?.model);
    } else if (
      type === 'response.completed' ||
      type === 'response.incomplete' ||
      type === 'response.failed'
    ) {
      const response = asRecord(event.response);
      describe(response?.id, response?.model);
      usage = responsesUsage(response?.usage) ?? usage;
      const status = stringOf(response?.status);
      if (status) reasons.push(status);
    }
    return true;
  };

  return {
    onItem(item) {
      call.recordFirstChunk();
      const chunk = asRecord(item);
      if (!chunk) return true;
      return options.operation === 'responses' ? onResponsesEvent(chunk) : onChatChunk(chunk);
    },
    onEnd(outcome, error) {
      if (reasons.length > 0) call.recordResponse({ finishReasons: reasons });
      const settled = usage ?? localUsage(call, pieces);
      if (outcome === 'error') {
        call.fail(error, pieces.length > 0 || usage ? settled : undefined);
        return;
      }
      // A stream that ended without a finish reason was cut short (e.g. aborted quietly through its controller).
      call.complete(settled, usage ? 'provider' : 'local-count', {
        interrupted: outcome === 'interrupted' || reasons.length === 0,
      });
    },
  };
}

/** Usage counted on this side: the pre-call input estimate, and the streamed text through the tokenizer. */
function localUsage(call: GuardedCall, pieces: readonly string[]): TokenUsage {
  return {
    inputTokens: call.admission.estimate.estimatedInputTokens,
    outputTokens: pieces.length > 0 ? call.admission.countOutputTokens(pieces.join('')) : 0,
  };
}
