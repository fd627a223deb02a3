import { describe, expect, it } from 'vitest';
import { TollgateConfigError } from '../errors/config-error';
import { normalizeBaseURL } from './configured-providers';
import { normalizeProviders } from './normalize-providers';

const vllm = { name: 'vllm', baseURL: 'http://10.0.0.5:8000/v1', prices: { '*': { input: 0, output: 0 } } };

/** The path a `TollgateConfigError` names for `value`, or the error itself when it is another. */
function fieldOf(value: unknown): string {
  try {
    normalizeProviders(value);
  } catch (error) {
    if (TollgateConfigError.isInstance(error)) return error.field;
    throw error;
  }
  throw new Error('expected a TollgateConfigError');
}

describe('normalizeBaseURL', () => {
  it('writes the default port, drops trailing slashes and the query, lower-cases the host', () => {
    expect(normalizeBaseURL('http://LocalHost/v1/')).toBe('http://localhost:80/v1');
    expect(normalizeBaseURL('https://gw.example.com:443/v1?x=1')).toBe('https://gw.example.com:443/v1');
    expect(normalizeBaseURL('http://127.0.0.1:11434')).toBe('http://127.0.0.1:11434');
  });

  it('refuses what is not an absolute http(s) URL', () => {
    expect(normalizeBaseURL('localhost:11434/v1')).toBeUndefined();
    expect(normalizeBaseURL('ftp://host/v1')).toBeUndefined();
    expect(normalizeBaseURL('/v1')).toBeUndefined();
  });
});

describe('providers: matching a client base URL', () => {
  const providers = normalizeProviders([
    vllm,
    { name: 'ollama', baseURL: 'http://gateway.internal/ollama/v1/' },
    { name: 'gateway', baseURL: 'http://gateway.internal' },
  ]);

  it('matches the same endpoint however it is spelled', () => {
    expect(providers.nameAt('http://10.0.0.5:8000/v1')).toBe('vllm');
    expect(providers.nameAt('http://10.0.0.5:8000/v1/')).toBe('vllm');
    expect(providers.nameAt('http://gateway.internal:80/ollama/v1')).toBe('ollama');
  });

  it('matches a path under the base URL, and only at a segment boundary', () => {
    expect(providers.nameAt('http://10.0.0.5:8000/v1/tenant-a')).toBe('vllm');
    expect(providers.nameAt('http://10.0.0.5:8000/v10')).toBeUndefined();
    expect(providers.nameAt('http://10.0.0.5:8001/v1')).toBeUndefined();
    expect(providers.nameAt('https://10.0.0.5:8000/v1')).toBeUndefined();
  });

  it('prefers the longest matching base URL', () => {
    expect(providers.nameAt('http://gateway.internal/ollama/v1')).toBe('ollama');
    expect(providers.nameAt('http://gateway.internal/litellm/v1')).toBe('gateway');
  });

  it('names no provider for other URLs, unparsable ones and none', () => {
    expect(providers.nameAt('https://api.openai.com/v1')).toBeUndefined();
    expect(providers.nameAt('not a url')).toBeUndefined();
    expect(providers.nameAt(undefined)).toBeUndefined();
  });
});

describe('providers: prices', () => {
  const providers = normalizeProviders([
    { name: 'vllm', baseURL: 'http://vllm:8000/v1', prices: { 'Llama-3.1-8B': { input: 0.1, output: 0.2 } } },
    { name: 'ollama', baseURL: 'http://ollama:11434/v1', prices: { '*': { input: 0, output: 0 } } },
    { name: 'litellm', baseURL: 'http://litellm:4000' },
  ]);

  it('prices a listed model by its own entry, and no other model without a wildcard', () => {
    expect(providers.pricesOf('vllm')?.resolve('llama-3.1-8b')).toMatchObject({
      model: 'Llama-3.1-8B',
      price: { input: 0.1, output: 0.2 },
    });
    // Hosted prices never leak into a configured server's calls.
    expect(providers.pricesOf('vllm')?.resolve('gpt-4o')).toBeUndefined();
  });

  it("prices every model at '*' under its own lower-cased name", () => {
    expect(providers.pricesOf('ollama')?.resolve('Qwen2.5:7B')).toMatchObject({
      model: 'qwen2.5:7b',
      requestedModel: 'Qwen2.5:7B',
      price: { input: 0, output: 0 },
    });
  });

  it('leaves a provider without prices, and unconfigured providers, to the price table', () => {
    expect(providers.pricesOf('litellm')).toBeUndefined();
    expect(providers.pricesOf('openai')).toBeUndefined();
  });
});

describe('providers: validation names the exact path', () => {
  it.each([
    ['not a list', { name: 'x' }, 'providers'],
    ['an entry that is not an object', ['vllm'], 'providers[0]'],
    ['an unknown key', [{ ...vllm, apiKey: 'k' }], 'providers[0].apiKey'],
    ['a missing name', [{ baseURL: vllm.baseURL }], 'providers[0].name'],
    ['an upper-case name', [{ ...vllm, name: 'vLLM' }], 'providers[0].name'],
    ['a built-in name', [{ ...vllm, name: 'openai' }], 'providers[0].name'],
    ['another built-in name', [{ ...vllm, name: 'azure.ai.openai' }], 'providers[0].name'],
    ['a duplicate name', [vllm, { ...vllm, baseURL: 'http://other:8000/v1' }], 'providers[1].name'],
    ['a missing base URL', [{ name: 'vllm' }], 'providers[0].baseURL'],
    ['a relative base URL', [{ ...vllm, baseURL: '/v1' }], 'providers[0].baseURL'],
    ['a base URL without scheme', [{ ...vllm, baseURL: 'localhost:11434/v1' }], 'providers[0].baseURL'],
    ['a base URL with a query', [{ ...vllm, baseURL: 'http://vllm:8000/v1?key=1' }], 'providers[0].baseURL'],
    [
      'a base URL with credentials',
      [{ ...vllm, baseURL: 'http://u:p@vllm:8000/v1' }],
      'providers[0].baseURL',
    ],
    [
      'the same base URL spelled another way',
      [vllm, { name: 'vllm-b', baseURL: 'http://10.0.0.5:8000/v1/' }],
      'providers[1].baseURL',
    ],
    ['prices that are not an object', [{ ...vllm, prices: 3 }], 'providers[0].prices'],
    [
      'a negative price',
      [{ ...vllm, prices: { m: { input: -1, output: 0 } } }],
      'providers[0].prices["m"].input',
    ],
    [
      'a missing output price',
      [{ ...vllm, prices: { '*': { input: 0 } } }],
      'providers[0].prices["*"].output',
    ],
    [
      'a price that is not a number',
      [{ ...vllm, prices: { m: { input: '1', output: 1 } } }],
      'providers[0].prices["m"].input',
    ],
    [
      'an unknown price field',
      [{ ...vllm, prices: { m: { input: 1, output: 1, perCall: 1 } } }],
      'providers[0].prices["m"].perCall',
    ],
  ])('refuses %s', (_, value, field) => {
    expect(fieldOf(value)).toBe(field);
  });
});
