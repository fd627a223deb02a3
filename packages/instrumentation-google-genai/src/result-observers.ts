import { diag } from '@opentelemetry/api';
import type { TokenUsage } from '@tollgate/core';
import type { GuardedCall } from '@tollgate/core/instrumentation';
import { asRecord, embeddingTokenCount, finishReasons, generateContentUsage, stringOf } from './utils';

/** Telemetry must never break the caller's call: failures are reported through `diag`. */
function safely(what: string, run: () => void): void {
  try {
    run();
  } catch (error) {
    diag.error(`@tollgate/instrumentation-google-genai: ${what} failed`, error);
  }
}

function recordResponse(call: GuardedCall, response: Record<string, unknown>): void {
  call.recordResponse({
    id: stringOf(response.responseId),
    model: stringOf(response.modelVersion),
    finishReasons: finishReasons(response),
  });
}

/**
 * Usage of a response whose final counts never arrived: the input as far as the provider
 * reported it, and no output figure, so the output is charged at its reserved worst case.
 */
function withoutOutput(usage: TokenUsage | undefined): TokenUsage | undefined {
  if (usage === undefined) return undefined;
  return {
    inputTokens: usage.inputTokens,
    outputTokens: undefined,
    cacheReadInputTokens: usage.cacheReadInputTokens,
  };
}

/**
 * Settles a `generateContent` request from its response's `usageMetadata`. A response without
 * one is charged its reservation: hidden thinking makes a count of the returned text no bound.
 */
export function settleGenerateContent(response: unknown, call: GuardedCall): void {
  safely('settling a generateContent call', () => {
    const record = asRecord(response) ?? {};
    recordResponse(call, record);
    call.complete(generateContentUsage(record.usageMetadata), 'provider');
  });
}

/**
 * The SDK's chunk generator, observed: each chunk is handed on as it arrives (no buffering, no
 * timers), and the call settles once when iteration ends, however it ends.
 *
 * - Ran to its end: from the last chunk's usage, which is the whole response's (earlier chunks
 *   report the prompt only).
 * - The caller broke off (`break`, `return()`): the SDK only stops reading; the response keeps
 *   streaming and Google keeps billing it, so the output is charged at its reserved worst case,
 *   the input as reported.
 * - It threw (an abort through `config.abortSignal`, a dropped connection): likewise, when any
 *   chunk had arrived; the reservation is released when none had.
 *
 * A real async generator, like the SDK's own, so `return()`, `throw()` and `Symbol.asyncIterator`
 * behave as the caller expects.
 */
export async function* observeGenerateContentStream(
  source: AsyncIterable<unknown>,
  call: GuardedCall,
): AsyncGenerator<unknown, void, undefined> {
  let last: Record<string, unknown> | undefined;
  let reported: TokenUsage | undefined;
  let outcome: 'completed' | 'interrupted' | 'failed' = 'interrupted';
  try {
    for await (const chunk of source) {
      safely('observing a stream chunk', () => {
        call.recordFirstChunk();
        last = asRecord(chunk);
        reported = generateContentUsage(last?.usageMetadata) ?? reported;
      });
      yield chunk;
    }
    outcome = 'completed';
  } catch (error) {
    outcome = 'failed';
    safely('settling a failed stream', () => {
      if (last) recordResponse(call, last);
      const nothingReported: TokenUsage = { inputTokens: undefined, outputTokens: undefined };
      call.fail(error, last ? (withoutOutput(reported) ?? nothingReported) : undefined);
    });
    throw error;
  } finally {
    if (outcome !== 'failed') {
      safely('settling a stream', () => {
        if (last) recordResponse(call, last);
        if (outcome === 'completed') call.complete(generateContentUsage(last?.usageMetadata), 'provider');
        else call.complete(withoutOutput(reported), 'provider', { interrupted: true });
      });
    }
  }
}

/**
 * Settles an `embedContent` request: from the token counts Vertex AI reports, else (the Gemini
 * API reports none) from the pre-call count of the embedded text. Embeddings have no output.
 */
export function settleEmbedContent(response: unknown, call: GuardedCall): void {
  safely('settling an embedContent call', () => {
    const reported = embeddingTokenCount(asRecord(response) ?? {});
    if (reported !== undefined) call.complete({ inputTokens: reported, outputTokens: 0 }, 'provider');
    else
      call.complete(
        { inputTokens: call.admission.estimate.estimatedInputTokens, outputTokens: 0 },
        'local-count',
      );
  });
}
