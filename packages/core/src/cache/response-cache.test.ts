import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../call/canonical-json';
import type { LlmCallDescriptor } from '../call/llm-call';
import { normalizeCache } from '../config/normalize-cache';
import { TollgateConfigError } from '../errors/config-error';
import { cacheKey } from './cache-key';
import { ResponseCache } from './response-cache';

function chat(body: Record<string, unknown>, model = 'gpt-4o-mini'): LlmCallDescriptor {
  return { provider: 'openai', operation: 'chat', model, body: { model, ...body } };
}

const messages = [{ role: 'user', content: 'hi' }];

describe('cache keys', () => {
  it('sorts keys at every depth and leaves out undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: undefined }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,{"f":2}]},"b":1}',
    );
  });

  it('gives the same key whatever the key order and for API defaults, another for any other change', () => {
    const key = (body: Record<string, unknown>) => cacheKey({ call: chat(body), partition: {} });
    const base = key({ messages, max_tokens: 5 });
    expect(key({ max_tokens: 5, messages, stream: false, n: 1 })).toBe(base);
    expect(key({ messages, max_tokens: 6 })).not.toBe(base);
    expect(key({ messages, max_tokens: 5, stream: true })).not.toBe(base);
    expect(key({ messages, max_tokens: 5, temperature: 0 })).not.toBe(base);
    expect(cacheKey({ call: chat({ messages }), partition: { tenant: 'a' } })).not.toBe(
      cacheKey({ call: chat({ messages }), partition: { tenant: 'b' } }),
    );
    expect(cacheKey({ call: chat({ messages }), serverAddress: 'a.example', partition: {} })).not.toBe(
      cacheKey({ call: chat({ messages }), serverAddress: 'b.example', partition: {} }),
    );
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it('has no key for a body that is not plain JSON', () => {
    expect(cacheKey({ call: chat({ messages, file: new Uint8Array(3) }), partition: {} })).toBeUndefined();
    expect(cacheKey({ call: chat({ messages, seed: Number.NaN }), partition: {} })).toBeUndefined();
  });
});

describe('which calls are cached', () => {
  const cache = (config: unknown) => new ResponseCache(normalizeCache(config));

  it('caches nothing without a rule or the call asking', () => {
    expect(cache(undefined).plan({ call: chat({ messages }) }, {})).toBeUndefined();
  });

  it('follows the first matching rule, and the call over any rule', () => {
    const rules = cache({
      ttlMillis: 10_000,
      rules: [{ match: { feature: 'faq', model: 'gpt-4o*' }, ttlMillis: 5_000 }],
    });
    expect(rules.plan({ call: chat({ messages }) }, { feature: 'faq' })?.ttlMillis).toBe(5_000);
    expect(rules.plan({ call: chat({ messages }) }, { feature: 'chat' })).toBeUndefined();
    expect(rules.plan({ call: chat({ messages }, 'o3') }, { feature: 'faq' })).toBeUndefined();
    expect(rules.plan({ call: chat({ messages }) }, { feature: 'faq', cache: false })).toBeUndefined();
    expect(rules.plan({ call: chat({ messages }) }, { cache: true })?.ttlMillis).toBe(10_000);
    expect(rules.plan({ call: chat({ messages }) }, { cache: { ttlMillis: 7 } })?.ttlMillis).toBe(7);
  });

  it('refuses sampled choices and tool offers unless allowed', () => {
    const any = cache({ rules: [{}] });
    expect(any.plan({ call: chat({ messages, n: 3 }) }, {})).toBeUndefined();
    expect(any.plan({ call: chat({ messages, n: 3, temperature: 0 }) }, {})).toBeDefined();
    expect(any.plan({ call: chat({ messages, tools: [{ type: 'function' }] }) }, {})).toBeUndefined();
    expect(any.plan({ call: chat({ messages, tools: [] }) }, {})).toBeDefined();
    const allowing = cache({ rules: [{ sampledChoices: true, toolCalls: true }] });
    expect(
      allowing.plan({ call: chat({ messages, n: 3, tools: [{ type: 'function' }] }) }, {}),
    ).toBeDefined();
  });

  it('splits entries by the scope dimensions in `per`', () => {
    const split = cache({ per: ['tenant'], rules: [{}] });
    const call = { call: chat({ messages }) };
    expect(split.plan(call, { tenant: 'a' })?.key).not.toBe(split.plan(call, { tenant: 'b' })?.key);
    expect(split.plan(call, { tenant: 'a', user: 'x' })?.key).toBe(split.plan(call, { tenant: 'a' })?.key);
  });
});

describe('cache config', () => {
  it.each([
    [{ ttlMillis: 0 }, 'cache.ttlMillis'],
    [{ rules: [{ match: { model: 3 } }] }, 'cache.rules[0].match.model'],
    [{ rules: [{ ttl: 5 }] }, 'cache.rules[0]'],
    [{ per: ['model'] }, 'cache.per[0]'],
    [{ store: { get() {} } }, 'cache.store.set'],
    [{ maxBytes: -1 }, 'cache.maxBytes'],
  ])('names the bad option %j', (config, path) => {
    expect(() => normalizeCache(config)).toThrow(TollgateConfigError);
    try {
      normalizeCache(config);
    } catch (error) {
      expect((error as TollgateConfigError).message).toContain(path);
    }
  });
});

describe('a call-time cache choice', () => {
  it('is checked when the cache reads it, naming the option', () => {
    const any = new ResponseCache(normalizeCache(undefined));
    const call = { call: chat({ messages }) };
    expect(() => any.plan(call, { cache: { ttlMillis: -1 } })).toThrow(/scope\.cache\.ttlMillis/);
    expect(() => any.plan(call, { cache: { ttl: 5 } as never })).toThrow(/scope\.cache\.ttl/);
    expect(() => any.plan(call, { cache: 'yes' as never })).toThrow(/scope\.cache/);
    expect(any.plan(call, { cache: { ttlMillis: 5, toolCalls: true } })?.ttlMillis).toBe(5);
  });
});
