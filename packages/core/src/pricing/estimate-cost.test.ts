import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateCostUsd, worstCaseCostUsd } from './estimate-cost.js';
import type { ModelPrice } from './model-price';
import { PriceTable } from './price-table';

/** Anthropic Sonnet 4.5 shape: cache prices plus a whole-request tier above 200K input tokens. */
const tiered: ModelPrice = {
  input: 3,
  cachedInput: 0.3,
  cacheWrite: 3.75,
  output: 15,
  longContext: [{ aboveInputTokens: 200_000, input: 6, output: 22.5, cachedInput: 0.6, cacheWrite: 7.5 }],
};

describe('estimateCostUsd()', () => {
  it('prices plain input and output', () => {
    const cost = estimateCostUsd({ input: 2.5, output: 10 }, { inputTokens: 1_000, outputTokens: 500 });
    expect(cost).toEqual({
      inputUsd: 0.0025,
      cachedInputUsd: 0,
      cacheWriteUsd: 0,
      outputUsd: 0.005,
      reasoningUsd: 0,
      requestUsd: 0,
      totalUsd: 0.0075,
      tier: 'base',
    });
  });

  it('takes cache reads out of input and prices them at cachedInput', () => {
    const price: ModelPrice = { input: 2.5, cachedInput: 1.25, output: 10 };
    const cost = estimateCostUsd(price, {
      inputTokens: 10_000,
      cacheReadInputTokens: 8_000,
      outputTokens: 100,
    });
    expect(cost.inputUsd).toBeCloseTo(0.005, 12); // 2,000 uncached × $2.50/M
    expect(cost.cachedInputUsd).toBeCloseTo(0.01, 12); // 8,000 × $1.25/M
    expect(cost.outputUsd).toBeCloseTo(0.001, 12);
    expect(cost.totalUsd).toBeCloseTo(0.016, 12);
  });

  it('prices cache writes and reads apart from uncached input', () => {
    const cost = estimateCostUsd(tiered, {
      inputTokens: 50_000,
      cacheReadInputTokens: 30_000,
      cacheWriteInputTokens: 15_000,
      outputTokens: 2_000,
    });
    expect(cost.inputUsd).toBeCloseTo(0.015, 12); // 5,000 × $3/M
    expect(cost.cachedInputUsd).toBeCloseTo(0.009, 12); // 30,000 × $0.30/M
    expect(cost.cacheWriteUsd).toBeCloseTo(0.05625, 12); // 15,000 × $3.75/M
    expect(cost.outputUsd).toBeCloseTo(0.03, 12);
    expect(cost.totalUsd).toBeCloseTo(0.11025, 12);
    expect(cost.tier).toBe('base');
  });

  it('bills cache reads and writes at the input price when the model has no cache prices', () => {
    const cost = estimateCostUsd(
      { input: 1, output: 2 },
      {
        inputTokens: 1_000_000,
        cacheReadInputTokens: 400_000,
        cacheWriteInputTokens: 100_000,
        outputTokens: 0,
      },
    );
    expect([cost.inputUsd, cost.cachedInputUsd, cost.cacheWriteUsd]).toEqual([0.5, 0.4, 0.1]);
    expect(cost.totalUsd).toBeCloseTo(1, 12);
  });

  it('bills reasoning tokens, a subset of output, at reasoningOutput or else output', () => {
    const usage = { inputTokens: 0, outputTokens: 1_000, reasoningOutputTokens: 600 };
    const separate = estimateCostUsd({ input: 1, output: 4, reasoningOutput: 8 }, usage);
    expect(separate.outputUsd).toBeCloseTo(0.0016, 12); // 400 visible × $4/M
    expect(separate.reasoningUsd).toBeCloseTo(0.0048, 12); // 600 × $8/M
    const same = estimateCostUsd({ input: 1, output: 4 }, usage);
    expect(same.outputUsd + same.reasoningUsd).toBeCloseTo(0.004, 12); // all 1,000 at $4/M
  });

  it('bills the whole request at the long-context tier only above its threshold', () => {
    const at = estimateCostUsd(tiered, { inputTokens: 200_000, outputTokens: 1_000 });
    expect(at.tier).toBe('base');
    expect(at.totalUsd).toBeCloseTo(0.6 + 0.015, 12);

    const above = estimateCostUsd(tiered, { inputTokens: 200_001, outputTokens: 1_000 });
    expect(above.tier).toBe(200_000);
    expect(above.inputUsd).toBeCloseTo(1.200006, 12); // 200,001 × $6/M
    expect(above.outputUsd).toBeCloseTo(0.0225, 12); // 1,000 × $22.50/M
  });

  it('counts cached tokens toward the tier threshold and uses the tier cache prices', () => {
    const cost = estimateCostUsd(tiered, {
      inputTokens: 250_000,
      cacheReadInputTokens: 240_000,
      cacheWriteInputTokens: 5_000,
      outputTokens: 0,
    });
    expect(cost.tier).toBe(200_000);
    expect(cost.inputUsd).toBeCloseTo(0.03, 12); // 5,000 × $6/M
    expect(cost.cachedInputUsd).toBeCloseTo(0.144, 12); // 240,000 × $0.60/M
    expect(cost.cacheWriteUsd).toBeCloseTo(0.0375, 12); // 5,000 × $7.50/M
  });

  it('picks the highest tier whose threshold the input exceeds, defaulting its cache prices to its input', () => {
    const price: ModelPrice = {
      input: 1,
      output: 1,
      longContext: [
        { aboveInputTokens: 100_000, input: 2, output: 2 },
        { aboveInputTokens: 200_000, input: 4, output: 4 },
      ],
    };
    expect(estimateCostUsd(price, { inputTokens: 150_000, outputTokens: 0 }).tier).toBe(100_000);
    const top = estimateCostUsd(price, {
      inputTokens: 500_000,
      cacheReadInputTokens: 100_000,
      outputTokens: 0,
    });
    expect(top.tier).toBe(200_000);
    expect(top.cachedInputUsd).toBeCloseTo(0.4, 12); // 100,000 × tier input $4/M
  });

  it('adds a per-request price once per call', () => {
    const cost = estimateCostUsd(
      { input: 0, output: 0, perRequest: 0.005 },
      { inputTokens: 0, outputTokens: 0 },
    );
    expect(cost.requestUsd).toBe(0.005);
    expect(cost.totalUsd).toBe(0.005);
  });

  it('treats unknown, negative and NaN counts as zero, and never bills negative uncached input', () => {
    expect(
      estimateCostUsd({ input: 1, output: 1 }, { inputTokens: undefined, outputTokens: undefined }).totalUsd,
    ).toBe(0);
    expect(
      estimateCostUsd({ input: 1, output: 1 }, { inputTokens: -5, outputTokens: Number.NaN }).totalUsd,
    ).toBe(0);
    const over = estimateCostUsd(tiered, { inputTokens: 100, cacheReadInputTokens: 1_000, outputTokens: 0 });
    expect(over.inputUsd).toBe(0);
    expect(over.cachedInputUsd).toBeCloseTo(0.0003, 12);
  });

  it('prices a bundled model end to end', () => {
    const { price } = PriceTable.bundled().resolve('claude-sonnet-4-5-20250929')!;
    const cost = estimateCostUsd(price, { inputTokens: 1_000_000, outputTokens: 1_000_000 });
    expect(cost.tier).toBe(200_000);
    expect(cost.totalUsd).toBeCloseTo(6 + 22.5, 9);
  });
});

describe('worstCaseCostUsd()', () => {
  it('bills input once and the output cap once per choice', () => {
    const price: ModelPrice = { input: 2.5, cachedInput: 1.25, output: 10 };
    // 1,000 × $2.50/M + 3 × 500 × $10/M
    expect(worstCaseCostUsd(price, { inputTokens: 1_000, maxOutputTokens: 500, choices: 3 })).toBeCloseTo(
      0.0175,
      12,
    );
    expect(worstCaseCostUsd(price, { inputTokens: 1_000, maxOutputTokens: 500 })).toBeCloseTo(0.0075, 12);
  });

  it('assumes the prompt may be written to the cache when that costs more than input', () => {
    expect(worstCaseCostUsd(tiered, { inputTokens: 1_000, maxOutputTokens: 0 })).toBeCloseTo(0.00375, 12);
  });

  it('uses the dearer of output and reasoning output', () => {
    expect(
      worstCaseCostUsd(
        { input: 0, output: 4, reasoningOutput: 8 },
        { inputTokens: 0, maxOutputTokens: 1_000 },
      ),
    ).toBeCloseTo(0.008, 12);
  });

  it('uses the tier the input size falls in', () => {
    // 300,000 × $7.50/M (tier cache write) + 10,000 × $22.50/M
    expect(worstCaseCostUsd(tiered, { inputTokens: 300_000, maxOutputTokens: 10_000 })).toBeCloseTo(
      2.475,
      12,
    );
  });

  it('adds the per-request price once, whatever the number of choices', () => {
    expect(
      worstCaseCostUsd(
        { input: 0, output: 0, perRequest: 0.01 },
        { inputTokens: 10, maxOutputTokens: 10, choices: 4 },
      ),
    ).toBe(0.01);
  });

  it.each([
    [{ inputTokens: -1, maxOutputTokens: 1 }, /inputTokens/],
    [{ inputTokens: 1, maxOutputTokens: Number.NaN }, /maxOutputTokens/],
    [{ inputTokens: 1, maxOutputTokens: 1, choices: 0 }, /choices/],
    [{ inputTokens: 1, maxOutputTokens: 1, choices: 1.5 }, /choices/],
  ])('rejects %j', (request, message) => {
    expect(() => worstCaseCostUsd({ input: 1, output: 1 }, request)).toThrow(message);
  });

  it('is never below the estimate of any usage that fits the request', () => {
    const prices = PriceTable.bundled()
      .models()
      .map((key) => PriceTable.bundled().resolve(key)!.price);
    fc.assert(
      fc.property(
        fc.constantFrom(...prices),
        fc.integer({ min: 0, max: 1_500_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        (price, inputTokens, maxOutputTokens, readShare, writeShare, reasoningShare, choices) => {
          const cacheReadInputTokens = Math.floor(inputTokens * readShare);
          const cacheWriteInputTokens = Math.floor((inputTokens - cacheReadInputTokens) * writeShare);
          const outputTokens = maxOutputTokens * choices;
          const estimate = estimateCostUsd(price, {
            inputTokens,
            outputTokens,
            cacheReadInputTokens,
            cacheWriteInputTokens,
            reasoningOutputTokens: Math.floor(outputTokens * reasoningShare),
          });
          const bound = worstCaseCostUsd(price, { inputTokens, maxOutputTokens, choices });
          expect(estimate.totalUsd).toBeLessThanOrEqual(bound * (1 + 1e-12));
        },
      ),
      { numRuns: 500 },
    );
  });
});
