import type { LlmCallDescriptor } from '../call/llm-call';
import { estimateCostUsd, worstCaseCostUsd } from '../pricing/estimate-cost';
import type { ModelPrice } from '../pricing/model-price';
import type { PriceLookup } from '../pricing/provider-prices';
import type { TokenUsage } from '../pricing/token-usage';
import type { RequestShape } from '../request-shapes/request-shape';
import { requestShapeOf } from '../request-shapes/request-shape-registry';
import type { TokenEstimateMethod } from '../tokens/count-text-tokens';
import type { TokenEstimatorOptions } from '../tokens/token-estimator-options';
import { estimateInputTokens } from './estimate-input-tokens';
import { bodyOf } from './request-output-limits';

/** Everything the gate works out about a call before it is sent. All figures are estimates. */
export interface CallEstimate {
  estimatedInputTokens: number;
  estimateMethod: TokenEstimateMethod;
  /**
   * Output tokens reserved per choice, capped by the model's maximum output: the request's own
   * cap; else the guard's `defaultMaxOutputTokens`, which is then sent with the request; else
   * the model's maximum output. With `outputBound: 'none'` it is a nominal figure that only
   * weighs the call for rate limits.
   */
  maxOutputTokens: number;
  /** Where `maxOutputTokens` comes from, and so whether it bounds what the provider can bill (all but `'none'` do). */
  outputBound: OutputBound;
  /**
   * The cap the request must carry for the reservation to hold: set when the request names
   * none and the guard's `defaultMaxOutputTokens` was reserved instead.
   */
  outputCapToSend: number | undefined;
  /**
   * The output cap per choice the request carries when sent (`gen_ai.request.max_tokens`): its
   * own, as its shape reads it, else `outputCapToSend`; undefined when it carries none.
   */
  requestOutputCap: number | undefined;
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

/**
 * Why a call's output reservation bounds what the provider can bill for it:
 * - `request`: the request's own `max_tokens` / `max_completion_tokens` / `max_output_tokens`
 *   (or the API's default, 16 for legacy completions; 0 for embeddings);
 * - `sent`: the guard's `defaultMaxOutputTokens`, written into the request before it is sent;
 * - `model-max`: the model's maximum output from the price table (or `unknownModel.fallback`);
 * - `none`: no cap and no known maximum — nothing bounds the output. Such a call is refused
 *   under a token or USD budget.
 */
export type OutputBound = 'request' | 'sent' | 'model-max' | 'none';

/**
 * Output weight of a call whose output nothing bounds, for rate limits only: it is never
 * reserved against a token or USD budget (such calls are refused).
 */
export const UNBOUNDED_OUTPUT_WEIGHT_TOKENS = 4096;

export interface EstimateSettings {
  /** The price table, or a configured provider's own prices. */
  prices: PriceLookup;
  /** Cap sent with requests that set none; undefined: reserve the model's maximum output instead. */
  defaultMaxOutputTokens: number | undefined;
  /** The guard's `unknownModel` (its fallback is a `FallbackPrice`). */
  unknownModel: 'reject' | { fallback: ModelPrice };
  estimator: TokenEstimatorOptions | undefined;
}

/**
 * Estimates a call's worst case: input counted or bounded, output at its cap, times `n`.
 *
 * @throws {InvalidRequestError} When the body is malformed where the gate must read it
 *   (an output cap or choice count that is not an integer, `messages` that is not an array).
 */
export function estimateCall(call: LlmCallDescriptor, settings: EstimateSettings): CallEstimate {
  const shape = requestShapeOf(call.operation);
  const body = bodyOf(call);
  // Malformed fields are refused before any work: the provider would refuse them too.
  shape?.checkBody(body);
  const ownCap = shape?.requestedOutputCap(body);
  const choices = shape === undefined ? 1 : shape.choiceCount(body);
  const input = estimateInputTokens(call, settings.estimator);
  const resolved = settings.prices.resolve(call.model);
  const fallback = typeof settings.unknownModel === 'object' ? settings.unknownModel.fallback : undefined;
  const price: ModelPrice | undefined = resolved?.price ?? fallback;
  const modelMax = resolved ? resolved.price.maxOutputTokens : fallback?.maxOutputTokens;
  const output = outputReservation(shape, call.provider, ownCap, settings.defaultMaxOutputTokens, modelMax);
  const maxOutputTokens = output.maxOutputTokens;
  const outputCapToSend = output.bound === 'sent' ? maxOutputTokens : undefined;
  return {
    estimatedInputTokens: input.estimatedInputTokens,
    estimateMethod: input.method,
    maxOutputTokens,
    outputBound: output.bound,
    outputCapToSend,
    requestOutputCap: ownCap ?? outputCapToSend,
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

/** Picks the output tokens to reserve per choice, and what makes them a bound. */
function outputReservation(
  shape: RequestShape | undefined,
  provider: string,
  ownCap: number | undefined,
  defaultMaxOutputTokens: number | undefined,
  modelMax: number | undefined,
): { maxOutputTokens: number; bound: OutputBound } {
  const ceiling = modelMax ?? Number.POSITIVE_INFINITY;
  // The API's own default (16 for legacy completions, 0 for embeddings) bounds an unset cap.
  const requested = ownCap ?? shape?.defaultOutputCap;
  // A cap above the model's maximum is refused by the provider, so the maximum still bounds the bill.
  if (requested !== undefined) return { maxOutputTokens: Math.min(requested, ceiling), bound: 'request' };
  if (defaultMaxOutputTokens !== undefined && shape?.outputCapField(provider) !== undefined)
    return { maxOutputTokens: Math.min(defaultMaxOutputTokens, ceiling), bound: 'sent' };
  if (modelMax !== undefined) return { maxOutputTokens: modelMax, bound: 'model-max' };
  return { maxOutputTokens: UNBOUNDED_OUTPUT_WEIGHT_TOKENS, bound: 'none' };
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
