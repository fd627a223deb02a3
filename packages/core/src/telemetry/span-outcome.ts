import { type Span, SpanStatusCode } from '@opentelemetry/api';
import type { RefusalSpanFacts } from '../events/refusals';
import type { TokenUsage } from '../pricing/token-usage';
import * as semconv from './semconv';

// What a call's span records about how it ended: usage, a refusal, a failure.

export function setUsageAttributes(span: Span, usage: TokenUsage): void {
  // The span skips undefined values: counts the provider did not report are not set.
  span.setAttributes({
    [semconv.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.inputTokens,
    [semconv.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: usage.outputTokens,
    [semconv.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: usage.cacheReadInputTokens,
    [semconv.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: usage.cacheWriteInputTokens,
    [semconv.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: usage.reasoningOutputTokens,
  });
}

/** Records what the refusal description says about a refused call on its span. */
export function setRefusalAttributes(span: Span, refusal: RefusalSpanFacts): void {
  if (refusal.reason !== undefined) span.setAttribute(semconv.ATTR_TOLLGATE_GATE_REASON, refusal.reason);
  if (refusal.limiterKeys !== undefined)
    span.setAttribute(semconv.ATTR_TOLLGATE_GATE_LIMITERS, refusal.limiterKeys);
  if (refusal.budgetId !== undefined) span.setAttribute(semconv.ATTR_TOLLGATE_BUDGET_ID, refusal.budgetId);
  // The refused call's worst case, when a USD budget refused it (an estimate).
  if (refusal.estimatedCostUsd !== undefined)
    span.setAttribute(semconv.ATTR_TOLLGATE_COST_ESTIMATED_USD, refusal.estimatedCostUsd);
  if (refusal.ruleId !== undefined) span.setAttribute(semconv.ATTR_TOLLGATE_POLICY_RULE, refusal.ruleId);
}

/** A low-cardinality name for an error: the class name, or `_OTHER`. */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor.name === 'Error' ? '_OTHER' : error.constructor.name;
  return '_OTHER';
}

export function markFailed(span: Span, error: unknown): void {
  span.setAttribute(semconv.ATTR_ERROR_TYPE, errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  if (error instanceof Error) span.recordException(error);
}
