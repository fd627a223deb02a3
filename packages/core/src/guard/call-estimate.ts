import type { LlmCallDescriptor } from '../call/llm-call';
import type { FallbackPrice } from '../config/guard-config';
import { estimateCostUsd, worstCaseCostUsd } from '../pricing/estimate-cost';
import type { ModelPrice, PriceTable } from '../pricing/price-table';
import type { TokenUsage } from '../pricing/token-usage';
import {
  estimateInputTokens,
  requestedChoiceCount,
  requestedMaxOutputTokens,
  type TokenEstimateMethod,
  type TokenEstimatorOptions,
} from '../tokens/estimate-input-tokens';

/** Everything the gate works out about a call before it is sent. All figures are estimates. */
export interface CallEstimate {
  estimatedInputTokens: number;
  estimateMethod: TokenEstimateMethod;
  /** Output tokens reserved per choice: the request's own cap, or the configured default, capped by the model. */
  maxOutputTokens: number;
  choices: number;
  /** Input plus maximum output over every choice: the call's weight in token budgets and TPM limits. */
  worstCaseTokens: number;
  /** Canonical model name when priced. */
  pricedModel: string | undefined;
  price: ModelPrice | undefined;
  priceSource: 'table' | 'fallback' | undefined;
  /** Worst-case cost in USD at list price; undefined when unpriced. */
  worstCaseUsd: number | undefined;
}

export interface EstimateSettings {
  prices: PriceTable;
  defaultMaxOutputTokens: number;
  unknownModel: 'reject' | { fallback: FallbackPrice };
  estimator: TokenEstimatorOptions | undefined;
}

/** Estimates a call's worst case: input counted or bounded, output at its cap, times `n`. */
export function estimateCall(call: LlmCallDescriptor, settings: EstimateSettings): CallEstimate {
  const input = estimateInputTokens(call, settings.estimator);
  const resolved = settings.prices.resolve(call.model);
  const fallback = typeof settings.unknownModel === 'object' ? settings.unknownModel.fallback : undefined;
  const price: ModelPrice | undefined = resolved?.price ?? fallback;
  const modelMax = resolved?.price.maxOutputTokens;
  const requested = requestedMaxOutputTokens(call);
  const maxOutputTokens =
    call.operation === 'embeddings'
      ? 0
      : Math.min(requested ?? settings.defaultMaxOutputTokens, modelMax ?? Number.POSITIVE_INFINITY);
  const choices = requestedChoiceCount(call);
  return {
    estimatedInputTokens: input.estimatedInputTokens,
    estimateMethod: input.method,
    maxOutputTokens,
    choices,
    worstCaseTokens: input.estimatedInputTokens + maxOutputTokens * choices,
    pricedModel: resolved?.model,
    price,
    priceSource: resolved ? 'table' : fallback ? 'fallback' : undefined,
    worstCaseUsd: price
      ? worstCaseCostUsd(price, { inputTokens: input.estimatedInputTokens, maxOutputTokens, choices })
      : undefined,
  };
}

/** Usage with every unknown count replaced by the pre-call worst case, so nothing unreported is charged as zero. */
export type CompleteUsage = { [K in keyof TokenUsage]-?: number };

export function usageOrWorstCase(usage: TokenUsage | undefined, estimate: CallEstimate): CompleteUsage {
  return {
    inputTokens: usage?.inputTokens ?? estimate.estimatedInputTokens,
    outputTokens: usage?.outputTokens ?? estimate.maxOutputTokens * estimate.choices,
    cacheReadInputTokens: usage?.cacheReadInputTokens ?? 0,
    cacheWriteInputTokens: usage?.cacheWriteInputTokens ?? 0,
    reasoningOutputTokens: usage?.reasoningOutputTokens ?? 0,
  };
}

/** Cost of actual usage at list price, or undefined for an unpriced model. */
export function actualCostUsd(usage: CompleteUsage, estimate: CallEstimate): number | undefined {
  return estimate.price ? estimateCostUsd(estimate.price, usage).totalUsd : undefined;
}
