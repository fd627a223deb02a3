import { diag } from '@opentelemetry/api';
import type { GuardedCall } from '@tollgate/core/instrumentation';
import { aiSdkUsage, asRecord, finishReasonOf, stringOf } from './utils';

/** Telemetry must never break the caller's call: failures are reported through `diag`. */
export function safely(what: string, run: () => void): void {
  try {
    run();
  } catch (error) {
    diag.error(`@tollgate/instrumentation-ai-sdk: ${what} failed`, error);
  }
}

/** What a `doGenerate` result or a stream's `response-metadata` and `finish` parts say about the response. */
export function recordResponse(
  call: GuardedCall,
  response: Record<string, unknown> | undefined,
  finishReason: unknown,
): void {
  const reason = finishReasonOf(finishReason);
  call.recordResponse({
    id: stringOf(response?.id),
    model: stringOf(response?.modelId),
    finishReasons: reason ? [reason] : undefined,
  });
}

/**
 * Settles a `doGenerate` call from its result's `usage`. A result without one is charged its
 * reservation: hidden reasoning makes a count of the returned text no bound.
 */
export function settleGenerate(result: unknown, call: GuardedCall): void {
  safely('settling a doGenerate call', () => {
    const record = asRecord(result) ?? {};
    recordResponse(call, asRecord(record.response), record.finishReason);
    call.complete(aiSdkUsage(record.usage), 'provider');
  });
}

/**
 * Settles a `doEmbed` call: from the `usage.tokens` the provider reported, else (Gemini reports
 * none) from the pre-call count of the embedded values. Embeddings have no output.
 */
export function settleEmbed(result: unknown, call: GuardedCall): void {
  safely('settling a doEmbed call', () => {
    const tokens = asRecord(asRecord(result)?.usage)?.tokens;
    if (typeof tokens === 'number' && Number.isFinite(tokens) && tokens >= 0)
      call.complete({ inputTokens: tokens, outputTokens: 0 }, 'provider');
    else
      call.complete(
        { inputTokens: call.admission.estimate.estimatedInputTokens, outputTokens: 0 },
        'local-count',
      );
  });
}
