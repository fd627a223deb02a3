import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { countTextSegments, countTextTokens } from './count-text-tokens';
import { loadRankFile } from './encoder-loading';
import { resolveTokenEstimatorOptions } from './token-estimator-options';
import { preloadTokenizer } from './tokenizer';
import { utf8ByteLength } from './utf8-byte-length';

let o200kReference: Tiktoken;
let cl100kReference: Tiktoken;

beforeAll(() => {
  preloadTokenizer('gpt-4o');
  preloadTokenizer('gpt-4-turbo');
  o200kReference = new Tiktoken(loadRankFile('o200k_base'));
  cl100kReference = new Tiktoken(loadRankFile('cl100k_base'));
}, 60_000);

describe('countTextTokens', () => {
  it('counts with the model’s encoding', () => {
    expect(countTextTokens('gpt-4o', 'Hello, world!')).toBe(4);
    // 世 is one o200k token but two cl100k byte tokens.
    expect(countTextTokens('gpt-4o', '你好，世界')).toBe(3);
    expect(countTextTokens('gpt-4-turbo', '你好，世界')).toBe(6);
  });

  it('scales Claude counts by the per-generation safety factor', () => {
    // cl100k: Hello | , | ␣world | ! = 4 tokens; 13 bytes.
    expect(countTextTokens('claude-sonnet-4-5', 'Hello, world!')).toBe(Math.ceil(4 * 1.35));
    expect(countTextTokens('claude-opus-4-7', 'Hello, world!')).toBe(Math.ceil(4 * 1.8));
    expect(countTextTokens('claude-opus-4-7', 'Hello, world!', { anthropicSafetyFactor: 2 })).toBe(8);
  });

  it('never scales a Claude count above the byte length', () => {
    // Runic letters: cl100k spends one token per byte, so 1.8× would pass the byte length.
    const runes = 'ᚠᚡᚢ';
    const scaled = Math.ceil(cl100kReference.encode(runes, [], []).length * 1.8);
    expect(scaled).toBeGreaterThan(utf8ByteLength(runes));
    expect(countTextTokens('claude-opus-4-7', runes)).toBe(utf8ByteLength(runes));
  });

  it('switches to the byte length above exactCountMaxBytes and counts exactly at it', () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const bytes = utf8ByteLength(text);
    expect(countTextTokens('gpt-4o', text, { exactCountMaxBytes: bytes })).toBe(10);
    expect(countTextTokens('gpt-4o', text, { exactCountMaxBytes: bytes - 1 })).toBe(bytes);
  });

  it('keeps the byte-bound path at or above the exact count for any unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(countTextTokens('gpt-4o', text, { exactCountMaxBytes: 0 })).toBeGreaterThanOrEqual(
          o200kReference.encode(text, [], []).length,
        );
        expect(countTextTokens('gpt-4-turbo', text, { exactCountMaxBytes: 0 })).toBeGreaterThanOrEqual(
          cl100kReference.encode(text, [], []).length,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('rejects invalid options with a TypeError naming the option', () => {
    expect(() => countTextTokens('gpt-4o', 'x', { exactCountMaxBytes: -1 })).toThrow(
      new TypeError('Invalid exactCountMaxBytes: expected a number of bytes >= 0, got -1'),
    );
    expect(() => countTextTokens('gpt-4o', 'x', { exactCountMaxBytes: Number.NaN })).toThrow(
      /exactCountMaxBytes/,
    );
    expect(() => countTextTokens('gpt-4o', 'x', { anthropicSafetyFactor: 0.9 })).toThrow(
      /anthropicSafetyFactor/,
    );
    expect(() => countTextTokens('gpt-4o', 'x', { anthropicSafetyFactor: Number.POSITIVE_INFINITY })).toThrow(
      TypeError,
    );
  });
});

describe('countTextSegments', () => {
  const defaults = resolveTokenEstimatorOptions(undefined);

  it('decides on the total size of all texts', () => {
    const texts = ['a'.repeat(10_000), 'b'.repeat(10_000)];
    const result = countTextSegments('gpt-4o', 'openai', texts, defaults);
    expect(result).toEqual({ tokens: 20_000, method: 'byte-bound', encoding: undefined });
  });

  it('reports the approximation for Claude, even behind an OpenAI-compatible gateway', () => {
    expect(countTextSegments('anthropic/claude-3.5-sonnet', 'openrouter', ['hi'], defaults)).toMatchObject({
      method: 'approximation',
      encoding: 'cl100k_base',
    });
    expect(countTextSegments('gpt-4o', 'openai', ['hi'], defaults)).toMatchObject({
      method: 'tiktoken',
      encoding: 'o200k_base',
    });
  });
});
