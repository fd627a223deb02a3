import type { LongContextTier, ModelPrice } from './model-price';
import type { TokenUsage } from './token-usage.js';

/**
 * An estimated cost in USD, split by what it was charged for. Every field is an estimate
 * computed from a copied price list, not an amount read from a provider invoice.
 */
export interface CostEstimate {
  /** Estimated cost of uncached input tokens. */
  readonly inputUsd: number;
  /** Estimated cost of input tokens read from the prompt cache. */
  readonly cachedInputUsd: number;
  /** Estimated cost of input tokens written to the prompt cache. */
  readonly cacheWriteUsd: number;
  /** Estimated cost of output tokens other than reasoning tokens. */
  readonly outputUsd: number;
  /** Estimated cost of reasoning output tokens. */
  readonly reasoningUsd: number;
  /** Estimated flat per-request charge. */
  readonly requestUsd: number;
  /** The sum of the parts above: the estimated cost of the call. */
  readonly totalUsd: number;
  /** The long-context tier applied, as its `aboveInputTokens` threshold, or `'base'`. */
  readonly tier: number | 'base';
}

/** The bound of a request used to reserve budget before it is sent. */
export interface WorstCaseRequest {
  /** Input tokens the request will send (counted or bounded). */
  readonly inputTokens: number;
  /** The most output tokens one choice may produce (the request's max tokens, or a default). */
  readonly maxOutputTokens: number;
  /** How many choices the request asks for (OpenAI `n`). @default 1 */
  readonly choices?: number;
}

interface TierPrices {
  readonly tier: number | 'base';
  readonly input: number;
  readonly cachedInput: number;
  readonly cacheWrite: number;
  readonly output: number;
  readonly reasoningOutput: number;
}

const PER_MILLION = 1_000_000;

/**
 * Estimates the cost of a finished call from its token usage.
 *
 * `usage.inputTokens` includes cache reads and writes, so uncached input is what remains after
 * both are taken out (never below zero). Reasoning tokens are part of `outputTokens` and are
 * billed at `reasoningOutput`, or `output` when the model has no separate price. Counts that
 * are `undefined` are treated as 0 here: deciding what an unknown count means is the caller's job.
 * When input exceeds a long-context threshold the whole call is priced at the highest such tier.
 *
 * @param price - The model's price, e.g. `table.resolve(model)?.price`.
 * @param usage - Normalised token usage of the call.
 * @returns The estimated cost, in USD, split by part.
 * @example
 * ```ts
 * const cost = estimateCostUsd(price, { inputTokens: 1200, outputTokens: 300, cacheReadInputTokens: 1000 });
 * cost.totalUsd; // an estimate, not an invoice
 * ```
 */
export function estimateCostUsd(price: ModelPrice, usage: TokenUsage): CostEstimate {
  const cacheRead = count(usage.cacheReadInputTokens);
  const cacheWrite = count(usage.cacheWriteInputTokens);
  // If a provider reports cache counts but no total, the cache counts are still input the tier sees.
  const totalInput = Math.max(count(usage.inputTokens), cacheRead + cacheWrite);
  const uncachedInput = Math.max(0, totalInput - cacheRead - cacheWrite);
  const reasoning = count(usage.reasoningOutputTokens);
  const visibleOutput = Math.max(0, count(usage.outputTokens) - reasoning);

  const prices = pricesFor(price, totalInput);
  const inputUsd = cost(uncachedInput, prices.input);
  const cachedInputUsd = cost(cacheRead, prices.cachedInput);
  const cacheWriteUsd = cost(cacheWrite, prices.cacheWrite);
  const outputUsd = cost(visibleOutput, prices.output);
  const reasoningUsd = cost(reasoning, prices.reasoningOutput);
  const requestUsd = price.perRequest ?? 0;
  return {
    inputUsd,
    cachedInputUsd,
    cacheWriteUsd,
    outputUsd,
    reasoningUsd,
    requestUsd,
    totalUsd: inputUsd + cachedInputUsd + cacheWriteUsd + outputUsd + reasoningUsd + requestUsd,
    tier: prices.tier,
  };
}

/**
 * An upper bound on what a request can cost, used to reserve budget before it is sent.
 *
 * Input is billed once, at the dearest input rate of the tier its size falls in: a prompt may be
 * written to the cache, and a cache write costs more than plain input on Anthropic and OpenAI.
 * Every choice may produce `maxOutputTokens`, all of it at the dearer of output and reasoning.
 *
 * @param price - The model's price.
 * @param request - The request's input size, output cap and number of choices.
 * @returns The worst-case estimated cost in USD.
 * @throws RangeError when a count is negative or not finite, or `choices` is not a positive integer.
 */
export function worstCaseCostUsd(price: ModelPrice, request: WorstCaseRequest): number {
  const inputTokens = checkCount(request.inputTokens, 'inputTokens');
  const maxOutputTokens = checkCount(request.maxOutputTokens, 'maxOutputTokens');
  const choices = request.choices ?? 1;
  if (!Number.isSafeInteger(choices) || choices < 1) {
    throw new RangeError(`worstCaseCostUsd: choices must be a positive integer, got ${String(choices)}`);
  }
  const prices = pricesFor(price, inputTokens);
  const inputRate = Math.max(prices.input, prices.cachedInput, prices.cacheWrite);
  const outputRate = Math.max(prices.output, prices.reasoningOutput);
  return cost(inputTokens, inputRate) + cost(maxOutputTokens * choices, outputRate) + (price.perRequest ?? 0);
}

function pricesFor(price: ModelPrice, inputTokens: number): TierPrices {
  let tier: LongContextTier | undefined;
  for (const candidate of price.longContext ?? []) {
    if (inputTokens > candidate.aboveInputTokens) tier = candidate;
  }
  if (!tier) {
    return {
      tier: 'base',
      input: price.input,
      cachedInput: price.cachedInput ?? price.input,
      cacheWrite: price.cacheWrite ?? price.input,
      output: price.output,
      reasoningOutput: price.reasoningOutput ?? price.output,
    };
  }
  return {
    tier: tier.aboveInputTokens,
    input: tier.input,
    cachedInput: tier.cachedInput ?? tier.input,
    cacheWrite: tier.cacheWrite ?? tier.input,
    output: tier.output,
    // A tier has no reasoning price of its own; it must not bill reasoning below the base rate.
    reasoningOutput: Math.max(tier.output, price.reasoningOutput ?? tier.output),
  };
}

function cost(tokens: number, pricePerMillion: number): number {
  return (tokens * pricePerMillion) / PER_MILLION;
}

function count(value: number | undefined): number {
  // Garbage (NaN, negative) must not poison a ledger total; it counts as nothing, like unknown.
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function checkCount(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`worstCaseCostUsd: ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}
