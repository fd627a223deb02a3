import { describe, expect, it } from 'vitest';
import { TollgateConfigError } from '../errors/config-error';
import type { ModelPrice, PriceTableData } from './model-price';
import { PriceTable } from './price-table';

function table(
  models: Record<string, unknown>,
  extra: Partial<Record<keyof PriceTableData, unknown>> = {},
): PriceTable {
  return new PriceTable({
    currency: 'USD',
    checkedAt: '2026-01-01',
    unit: 'per 1M tokens',
    models,
    ...extra,
  } as unknown as PriceTableData);
}

const DAY = 86_400_000;

/** The TollgateConfigError `build` throws: its path and message. */
function configErrorOf(build: () => unknown): { field: string; message: string } {
  try {
    build();
  } catch (error) {
    expect(TollgateConfigError.isInstance(error)).toBe(true);
    return error as TollgateConfigError;
  }
  throw new Error('expected a TollgateConfigError');
}

describe('PriceTable.bundled()', () => {
  const bundled = PriceTable.bundled();

  it('validates the shipped file once and shares the result', () => {
    expect(PriceTable.bundled()).toBe(bundled);
    expect(bundled.currency).toBe('USD');
    expect(bundled.checkedAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(bundled.models().length).toBeGreaterThan(40);
  });

  it('gives every model a provider, a source page, limits and a kind', () => {
    for (const key of bundled.models()) {
      const { price } = bundled.resolve(key)!;
      expect.soft(price.provider, key).toMatch(/^(openai|anthropic|gcp\.gemini|aws\.bedrock)$/);
      expect.soft(price.source, key).toMatch(/^https:\/\//);
      expect.soft(Number.isInteger(price.maxOutputTokens), key).toBe(true);
      expect.soft(Number.isInteger(price.contextWindow), key).toBe(true);
      expect.soft(price.kind, key).toBeDefined();
    }
  });

  it('resolves every key and every alias to its own model', () => {
    for (const key of bundled.models()) {
      expect(bundled.resolve(key)?.model).toBe(key);
      for (const alias of bundled.resolve(key)!.price.aliases ?? []) {
        expect(bundled.resolve(alias)?.model, alias).toBe(key);
      }
    }
  });

  it('prices embeddings by input only and never lets a cache read cost more than input', () => {
    for (const key of bundled.models()) {
      const { price } = bundled.resolve(key)!;
      if (price.kind === 'embedding') {
        expect(price.output, key).toBe(0);
        expect(price.maxOutputTokens, key).toBe(0);
      }
      expect(price.cachedInput ?? price.input, key).toBeLessThanOrEqual(price.input);
    }
  });

  it('carries the known figures for a few anchor models', () => {
    expect(bundled.resolve('gpt-4o')?.price).toMatchObject({ input: 2.5, cachedInput: 1.25, output: 10 });
    expect(bundled.resolve('claude-sonnet-4-5')?.price).toMatchObject({
      input: 3,
      cachedInput: 0.3,
      cacheWrite: 3.75,
      output: 15,
      longContext: [{ aboveInputTokens: 200_000, input: 6, output: 22.5, cachedInput: 0.6, cacheWrite: 7.5 }],
    });
    expect(bundled.resolve('text-embedding-3-small')?.price).toMatchObject({
      input: 0.02,
      kind: 'embedding',
    });
  });
});

describe('PriceTable.resolve()', () => {
  const bundled = PriceTable.bundled();

  it.each([
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-3-7-sonnet-latest', 'claude-3-7-sonnet'],
    ['claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
    ['gpt-4-0613', 'gpt-4'],
    ['gpt-3.5-turbo-0125', 'gpt-3.5-turbo'],
    ['gpt-4-turbo-preview', 'gpt-4-turbo'],
    ['claude-opus-4-0', 'claude-opus-4'],
    ['gpt-5.6', 'gpt-5.6-sol'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['anthropic/claude-haiku-4-5-20251001', 'claude-haiku-4-5'],
    ['GPT-4O-2024-08-06', 'gpt-4o'],
    ['  Claude-Sonnet-4-5  ', 'claude-sonnet-4-5'],
  ])('resolves %s to %s', (requested, canonical) => {
    const resolved = bundled.resolve(requested);
    expect(resolved?.model).toBe(canonical);
    expect(resolved?.requestedModel).toBe(requested);
  });

  it('prefers an exact snapshot entry over stripping its date', () => {
    // The May 2024 gpt-4o snapshot costs twice the current one; stripping would under-price it.
    expect(bundled.resolve('gpt-4o-2024-05-13')).toMatchObject({
      model: 'gpt-4o-2024-05-13',
      price: { input: 5 },
    });
  });

  it.each([
    'gpt-unknown',
    'acme/gpt-4o', // only openai/ and anthropic/ prefixes are stripped
    'anthropic/gpt-4o', // a prefix must match the model's provider
    'gpt-4o-2048', // not a plausible MMDD snapshot suffix
    'gpt-4o-audio-preview',
    '',
  ])('returns undefined for %j', (requested) => {
    expect(bundled.resolve(requested)).toBeUndefined();
  });

  it('treats a name that is not a string as unknown instead of throwing', () => {
    expect(bundled.resolve(undefined as unknown as string)).toBeUndefined();
  });

  it('resolves an alias of a stripped snapshot name', () => {
    const custom = table({ 'acme-large': { input: 1, output: 2, aliases: ['large'] } });
    expect(custom.resolve('large-20260101')?.model).toBe('acme-large');
    expect(custom.resolve('large-latest')?.model).toBe('acme-large');
  });

  it('matches a key that itself contains a slash before stripping a prefix', () => {
    const custom = table({
      'openai/ft-special': { input: 9, output: 9 },
      'ft-special': { input: 1, output: 1 },
    });
    expect(custom.resolve('openai/ft-special')?.price.input).toBe(9);
  });

  it('memoises results, and bounds the memo so old names are evicted', () => {
    const custom = table({ 'model-a': { input: 1, output: 2 } });
    const first = custom.resolve('model-a');
    expect(custom.resolve('model-a')).toBe(first);
    for (let i = 0; i < 1_000; i++) custom.resolve(`made-up-${i}`);
    const again = custom.resolve('model-a');
    expect(again).not.toBe(first); // evicted and looked up afresh
    expect(again).toEqual(first);
  });

  it('hands out prices that cannot be changed by the caller', () => {
    const resolved = PriceTable.bundled().resolve('gpt-4o')!;
    expect(() => {
      (resolved.price as { input: number }).input = 0;
    }).toThrow(TypeError);
    expect(PriceTable.bundled().resolve('gpt-4o')!.price.input).toBe(2.5);
  });
});

describe('PriceTable.withOverrides()', () => {
  const base = table({
    'model-a': {
      provider: 'openai',
      input: 1,
      cachedInput: 0.5,
      output: 2,
      maxOutputTokens: 100,
      aliases: ['a'],
    },
    'model-b': { provider: 'anthropic', input: 3, output: 4 },
  });

  it('merges a partial override over a known model and leaves the original table alone', () => {
    const next = base.withOverrides({ 'model-a': { input: 1.5 } });
    expect(next.resolve('model-a')?.price).toEqual({
      provider: 'openai',
      input: 1.5,
      cachedInput: 0.5,
      output: 2,
      maxOutputTokens: 100,
      aliases: ['a'],
    });
    expect(base.resolve('model-a')?.price.input).toBe(1);
    expect(next.checkedAt).toBe(base.checkedAt);
  });

  it('matches known model keys case-insensitively', () => {
    const next = base.withOverrides({ 'MODEL-B': { output: 5 } });
    expect(next.models()).toEqual(['model-a', 'model-b']);
    expect(next.resolve('model-b')?.price.output).toBe(5);
  });

  it('adds a new model that has input and output', () => {
    const next = base.withOverrides({ 'my-local-llm': { input: 0.1, output: 0.2, perRequest: 0.001 } });
    expect(next.resolve('my-local-llm')?.price).toEqual({ input: 0.1, output: 0.2, perRequest: 0.001 });
    expect(base.resolve('my-local-llm')).toBeUndefined();
  });

  it('overrides the bundled table', () => {
    const next = PriceTable.bundled().withOverrides({ 'gpt-4o': { input: 2 } });
    expect(next.resolve('gpt-4o-2024-11-20')?.price).toMatchObject({ input: 2, output: 10 });
  });

  it('rejects a new model without output, naming the model and field', () => {
    const error = configErrorOf(() => base.withOverrides({ 'model-c': { input: 1 } }));
    expect(error.field).toBe('prices.overrides["model-c"].output');
    expect(error.message).toMatch(
      /^Invalid Tollgate config at prices\.overrides\["model-c"\]\.output: is required/,
    );
  });

  it('names the path it was given, e.g. a prices file', () => {
    const error = configErrorOf(() => base.withOverrides({ 'model-a': { input: -1 } }, 'prices.file'));
    expect(error.field).toBe('prices.file["model-a"].input');
  });

  it('explains that a snapshot name is not a key when a partial override uses one', () => {
    const error = configErrorOf(() => base.withOverrides({ 'model-a-2025-01-01': { input: 9 } }));
    expect(error.field).toBe('prices.overrides["model-a-2025-01-01"].output');
    expect(error.message).toMatch(/not a model key but resolves to "model-a"/);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a negative price', { input: -1 }, 'prices.overrides["model-a"].input', /must be at least 0 \(got -1\)/],
    [
      'a string price',
      { output: '2' },
      'prices.overrides["model-a"].output',
      /must be a finite number \(got "2"\)/,
    ],
    [
      'a misspelt field',
      { cachedinput: 0.1 },
      'prices.overrides["model-a"].cachedinput',
      /is not a known field/,
    ],
    [
      'an alias clash',
      { aliases: ['model-b'] },
      'prices.overrides["model-a"].aliases[0]',
      /is already claimed by model "model-b"/,
    ],
  ])('rejects %s, naming the exact path', (_label, override, field, message) => {
    const error = configErrorOf(() => base.withOverrides({ 'model-a': override as Partial<ModelPrice> }));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('rejects overrides that are not an object', () => {
    expect(configErrorOf(() => base.withOverrides([] as never)).field).toBe('prices.overrides');
  });

  it('ignores keys that start with an underscore, so files can carry comments', () => {
    const next = base.withOverrides({ _comment: 'why we override' } as never);
    expect(next.models()).toEqual(['model-a', 'model-b']);
  });
});

describe('new PriceTable() validation', () => {
  const ok = { input: 1, output: 2 };

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'a negative price',
      { 'm-1': { input: -0.5, output: 1 } },
      'prices.models["m-1"].input',
      /must be at least 0/,
    ],
    [
      'an infinite price',
      { 'm-1': { input: 1, output: Infinity } },
      'prices.models["m-1"].output',
      /must be a finite number/,
    ],
    [
      'a NaN cache price',
      { 'm-1': { ...ok, cachedInput: Number.NaN } },
      'prices.models["m-1"].cachedInput',
      /must be a finite number/,
    ],
    ['a missing input', { 'm-1': { output: 1 } }, 'prices.models["m-1"].input', /is required/],
    ['a missing output', { 'm-1': { input: 1 } }, 'prices.models["m-1"].output', /is required/],
    [
      'tiers out of order',
      {
        'm-1': {
          ...ok,
          longContext: [
            { aboveInputTokens: 200_000, input: 2, output: 4 },
            { aboveInputTokens: 100_000, input: 3, output: 5 },
          ],
        },
      },
      'prices.models["m-1"].longContext[1].aboveInputTokens',
      /must be greater than the previous tier's \(200000\)/,
    ],
    [
      'a tier without output',
      { 'm-1': { ...ok, longContext: [{ aboveInputTokens: 1000, input: 2 }] } },
      'prices.models["m-1"].longContext[0].output',
      /is required/,
    ],
    [
      'a fractional token limit',
      { 'm-1': { ...ok, maxOutputTokens: 10.5 } },
      'prices.models["m-1"].maxOutputTokens',
      /must be a whole number/,
    ],
    [
      'a token limit beyond safe integers',
      { 'm-1': { ...ok, contextWindow: 2 ** 60 } },
      'prices.models["m-1"].contextWindow',
      /must be at most/,
    ],
    [
      'a source that is not a URL',
      { 'm-1': { ...ok, source: 'the website' } },
      'prices.models["m-1"].source',
      /must be an http\(s\) URL/,
    ],
    ['an unknown kind', { 'm-1': { ...ok, kind: 'image' } }, 'prices.models["m-1"].kind', /must be one of/],
    [
      'an unknown field',
      { 'm-1': { ...ok, outputPrice: 3 } },
      'prices.models["m-1"].outputPrice',
      /is not a known field/,
    ],
    [
      'keys that differ only in case',
      { 'm-1': ok, 'M-1': ok },
      'prices.models["M-1"]',
      /clashes with model "m-1" \(names are case-insensitive\)/,
    ],
    [
      'an alias equal to another key',
      { 'm-1': { ...ok, aliases: ['m-2'] }, 'm-2': ok },
      'prices.models["m-1"].aliases[0]',
      /is already claimed by model "m-2"/,
    ],
    [
      'an alias claimed twice',
      { 'm-1': { ...ok, aliases: ['shared'] }, 'm-2': { ...ok, aliases: ['shared'] } },
      'prices.models["m-2"].aliases[0]',
      /is already claimed by model "m-1"/,
    ],
  ])('rejects %s, naming the exact path', (_label, models, field, message) => {
    const error = configErrorOf(() => table(models));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it.each(['2026-02-30', '2026-1-05', '05/01/2026', '', undefined])('rejects checkedAt %j', (checkedAt) => {
    const error = configErrorOf(() => table({ 'm-1': ok }, { checkedAt }));
    expect(error.field).toBe('prices.checkedAt');
    expect(error.message).toMatch(/must be a real date as YYYY-MM-DD/);
  });

  it('rejects a currency other than USD and an unexpected unit', () => {
    const currency = configErrorOf(() => table({ 'm-1': ok }, { currency: 'EUR' }));
    expect(currency).toMatchObject({ field: 'prices.currency' });
    expect(currency.message).toMatch(/must be "USD"/);
    const unit = configErrorOf(() => table({ 'm-1': ok }, { unit: 'per 1K tokens' }));
    expect(unit).toMatchObject({ field: 'prices.unit' });
    expect(unit.message).toMatch(/must be "per 1M tokens"/);
  });

  it('names the path it was given', () => {
    const error = configErrorOf(
      () => new PriceTable({ models: {} } as unknown as PriceTableData, 'my-prices.json'),
    );
    expect(error.field).toBe('my-prices.json.currency');
  });

  it('accepts a minimal valid table and keeps file order', () => {
    const minimal = table({ 'm-2': ok, 'm-1': ok, _note: 'skipped' }, { _maintenance: 'read me' });
    expect(minimal.models()).toEqual(['m-2', 'm-1']);
  });
});

describe('PriceTable.ageDays()', () => {
  const t = table({ 'm-1': { input: 1, output: 1 } }); // checkedAt 2026-01-01
  const checked = Date.UTC(2026, 0, 1);

  it('counts whole days since checkedAt at midnight UTC', () => {
    expect(t.ageDays(checked)).toBe(0);
    expect(t.ageDays(checked + DAY - 1)).toBe(0);
    expect(t.ageDays(checked + DAY)).toBe(1);
    expect(t.ageDays(Date.UTC(2026, 3, 1))).toBe(90);
  });

  it('never goes negative and refuses a non-finite clock', () => {
    expect(t.ageDays(checked - 10 * DAY)).toBe(0);
    expect(() => t.ageDays(Number.NaN)).toThrow(TypeError);
  });
});
