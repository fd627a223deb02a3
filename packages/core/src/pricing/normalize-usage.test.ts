import { describe, expect, it } from 'vitest';
import { MAX_USAGE_TOKENS, normalizeUsage } from './normalize-usage';

describe('normalizeUsage', () => {
  it('keeps exact counts as they are, unknown as unknown, and reports nothing', () => {
    expect(normalizeUsage({ inputTokens: 120, outputTokens: 0, cacheReadInputTokens: 100 })).toEqual({
      usage: { inputTokens: 120, outputTokens: 0, cacheReadInputTokens: 100 },
      adjustments: [],
    });
    expect(normalizeUsage({ inputTokens: undefined, outputTokens: 3 }).usage).toEqual({
      inputTokens: undefined,
      outputTokens: 3,
    });
  });

  it('rounds fractions up, clamps huge and infinite counts, and treats garbage as unknown', () => {
    const { usage, adjustments } = normalizeUsage({
      inputTokens: 10.5,
      outputTokens: 1e308,
      cacheReadInputTokens: -1,
      cacheWriteInputTokens: Number.NaN,
      reasoningOutputTokens: Number.POSITIVE_INFINITY,
    });
    expect(usage).toEqual({
      inputTokens: 11,
      outputTokens: MAX_USAGE_TOKENS,
      reasoningOutputTokens: MAX_USAGE_TOKENS,
    });
    expect(adjustments).toEqual([
      'inputTokens 10.5 rounded up to 11',
      `outputTokens 1e+308 clamped to ${MAX_USAGE_TOKENS}`,
      'cacheReadInputTokens -1 is not a token count: charged as unknown',
      'cacheWriteInputTokens NaN is not a token count: charged as unknown',
      `reasoningOutputTokens Infinity clamped to ${MAX_USAGE_TOKENS}`,
    ]);
  });

  it('treats a count of the wrong type as unknown', () => {
    const usage = { inputTokens: '12', outputTokens: 4 } as unknown as Parameters<typeof normalizeUsage>[0];
    expect(normalizeUsage(usage).usage).toEqual({ inputTokens: undefined, outputTokens: 4 });
  });
});
