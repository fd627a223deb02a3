import { afterEach, describe, expect, it } from 'vitest';
import { normalizeGuardConfig } from '../config/normalize-guard-config';
import { isEncoderLoaded } from '../tokens/encoder-loading';
import { isTokenizerReady, warmUpTokenizer } from '../tokens/tokenizer-warm-up';
import { chat, closeGuards, guardWith } from './test-support';
import { tokenizerWarmUpTargets } from './tokenizer-warm-up-plan';

afterEach(closeGuards);

const targets = (config: Parameters<typeof normalizeGuardConfig>[0]) =>
  tokenizerWarmUpTargets(normalizeGuardConfig(config, {})).map((target) => target.model || target.provider);

describe('tokenizerWarmUpTargets', () => {
  it('names one model per encoding the configuration needs', () => {
    expect(
      targets({
        rateLimits: [
          { provider: 'openai', model: ['gpt-4o-mini', 'gpt-4o'], rpm: 10 },
          { provider: 'anthropic', rpm: 10 },
        ],
      }),
    ).toEqual(['gpt-4o-mini', 'anthropic']);
    expect(
      targets({ budgets: [{ id: 'b', limit: { tokens: 1000 }, window: 'day', match: { model: 'gpt-4' } }] }),
    ).toEqual(['gpt-4']);
  });

  it('reads provider:model ids in routing rules by their provider', () => {
    expect(
      targets({
        budgets: [{ id: 'daily', limit: { usd: 10 }, window: 'day' }],
        policies: [
          {
            id: 'cheaper',
            when: { budget: 'daily', usedAbove: 0.8 },
            action: 'fallback',
            models: { 'gpt-4o': 'anthropic:claude-haiku-4-5' },
          },
        ],
      }),
    ).toEqual(['gpt-4o', 'claude-haiku-4-5']);
  });

  it('builds the default encoding when nothing is named, and nothing when told not to or never counting', () => {
    expect(targets({})).toEqual(['gpt-4o']);
    expect(targets({ estimator: { warmUp: false } })).toEqual([]);
    expect(targets({ estimator: { exactCountMaxBytes: 0 } })).toEqual([]);
    expect(targets({ estimator: { warmUp: ['claude-sonnet-4-5', 'gpt-3.5-turbo'] } })).toEqual([
      'claude-sonnet-4-5',
    ]);
  });

  it('refuses a warm-up list that is not model names, naming the option', () => {
    expect(() => normalizeGuardConfig({ estimator: { warmUp: [3 as unknown as string] } }, {})).toThrow(
      'estimator.warmUp[0]',
    );
    expect(() =>
      normalizeGuardConfig({ estimator: { waitForTokenizer: 'yes' as unknown as boolean } }, {}),
    ).toThrow('estimator.waitForTokenizer');
  });
});

// Vitest gives each test file its own module registry: no tokenizer is built when these run.
describe('a guard after start-up', () => {
  it('does not build at construction, estimates the first call by the bound, then counts once warmed', async () => {
    const { guard, events } = guardWith({
      rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 1000 }],
    });
    // Construction only scheduled the warm-up: start-up is not blocked by it.
    expect(isEncoderLoaded('o200k_base')).toBe(false);
    const first = await guard.admit(chat('gpt-4o-mini', 50));
    await first.settle({ inputTokens: 12, outputTokens: 5 });
    expect(events.find((event) => event.type === 'allowed')).toMatchObject({ estimateMethod: 'byte-bound' });

    await warmUpTokenizer('gpt-4o-mini');
    expect(isTokenizerReady('gpt-4o-mini')).toBe(true);
    const second = await guard.admit(chat('gpt-4o-mini', 50));
    await second.settle({ inputTokens: 12, outputTokens: 5 });
    const admitted = events.filter((event) => event.type === 'allowed');
    expect(admitted[1]).toMatchObject({ estimateMethod: 'tiktoken' });
    const [bound, counted] = admitted.map((event) =>
      'estimatedInputTokens' in event ? event.estimatedInputTokens : 0,
    );
    expect(bound).toBeGreaterThan(counted ?? 0);
  });

  it('counts on the call when told to wait for the tokenizer', async () => {
    const { guard, events } = guardWith({ estimator: { waitForTokenizer: true, warmUp: false } });
    const admission = await guard.admit({ ...chat('gpt-3.5-turbo', 50), model: 'gpt-3.5-turbo' });
    await admission.release('not sent');
    expect(isEncoderLoaded('cl100k_base')).toBe(true);
    expect(events.find((event) => event.type === 'allowed')).toMatchObject({ estimateMethod: 'tiktoken' });
  });
});
