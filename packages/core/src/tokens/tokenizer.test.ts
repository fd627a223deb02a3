import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { isEncoderLoaded, loadEncoder, loadRankFile } from './encoder-loading';
import type { TiktokenEncodingName } from './encoding-for-model';
import type { LoadedEncoder } from './loaded-encoder';
import { countWithEncoder, MAX_EXACT_PIECE_BYTES, preloadTokenizer } from './tokenizer';
import { utf8ByteLength } from './utf8-byte-length';

const encodings: TiktokenEncodingName[] = ['o200k_base', 'cl100k_base'];
const encoders = new Map<TiktokenEncodingName, LoadedEncoder>();
/** The reference implementation: js-tiktoken's full encoder over the whole text. */
const references = new Map<TiktokenEncodingName, Tiktoken>();

beforeAll(() => {
  for (const encoding of encodings) {
    encoders.set(encoding, loadEncoder(encoding));
    references.set(encoding, new Tiktoken(loadRankFile(encoding)));
  }
}, 60_000);

function encoder(encoding: TiktokenEncodingName): LoadedEncoder {
  return encoders.get(encoding)!;
}

/** js-tiktoken's count with special-token text treated as ordinary text, as the APIs do. */
function referenceCount(encoding: TiktokenEncodingName, text: string): number {
  return references.get(encoding)!.encode(text, [], []).length;
}

function longestPieceBytes(encoding: TiktokenEncodingName, text: string): number {
  let longest = 0;
  for (const match of text.matchAll(encoder(encoding).pieceSplitter)) {
    longest = Math.max(longest, utf8ByteLength(match[0]));
  }
  return longest;
}

// Text with the shapes prompts have: words, spaces, newlines, digits, punctuation, CJK, emoji.
const promptLikeText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        ' ',
        '  ',
        '\n',
        '\n\n',
        '\t',
        '.',
        ',',
        '!',
        '?',
        '"',
        "'s",
        '{',
        '}',
        '//',
        '<|endoftext|>',
      ),
      fc.constantFrom(
        'the',
        'The',
        'budget',
        'tokens',
        'gate',
        'naïve',
        'Größe',
        '予算',
        '世界',
        '🙂',
        'ﬁ',
        '42',
        '3.14',
      ),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 8 }),
    ),
    { maxLength: 80 },
  )
  .map((parts) => parts.join(''));

describe('loadEncoder', () => {
  it('loads ranks that match published token ids', () => {
    // tiktoken's documented examples: "hello world" is [15339, 1917] in cl100k_base
    // and [24912, 2375] in o200k_base.
    expect(encoder('cl100k_base').ranks.get('hello')).toBe(15339);
    expect(encoder('cl100k_base').ranks.get(' world')).toBe(1917);
    expect(encoder('o200k_base').ranks.get('hello')).toBe(24912);
    expect(encoder('o200k_base').ranks.get(' world')).toBe(2375);
    expect(encoder('o200k_base').ranks.size).toBe(199_998);
    expect(encoder('cl100k_base').ranks.size).toBe(100_256);
  });

  it('builds each encoding once and caches it', () => {
    expect(loadEncoder('o200k_base')).toBe(encoder('o200k_base'));
    expect(isEncoderLoaded('o200k_base')).toBe(true);
    expect(preloadTokenizer('gpt-4o')).toBe('o200k_base');
    expect(preloadTokenizer('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(preloadTokenizer('claude-sonnet-4-5')).toBe('cl100k_base');
    expect(loadEncoder('cl100k_base')).toBe(encoder('cl100k_base'));
  });
});

describe('countWithEncoder', () => {
  it.each([
    // [text, o200k, cl100k], pieces checked by decoding each id with js-tiktoken.
    ['hello world', 2, 2], // hello | ␣world
    ['Hello, world!', 4, 4], // Hello | , | ␣world | !
    ['The quick brown fox jumps over the lazy dog.', 10, 10], // one token per word, then the period
    ['Tollgate', 3, 3], // T | oll | gate
    ['你好，世界', 3, 6], // o200k: 你好 | ， | 世界; cl100k has no token for 世 and spends two byte tokens
    ['', 0, 0],
  ])('counts %j as %i (o200k) and %i (cl100k)', (text, o200kCount, cl100kCount) => {
    expect(countWithEncoder(encoder('o200k_base'), text)).toBe(o200kCount);
    expect(countWithEncoder(encoder('cl100k_base'), text)).toBe(cl100kCount);
  });

  it('remembers whole texts (a repeated system prompt is counted once) within a bounded memo', () => {
    const o200k = encoder('o200k_base');
    const prompt = 'You are a careful assistant. Answer in three bullet points.';
    const first = countWithEncoder(o200k, prompt);
    expect(o200k.textCounts.get(prompt)).toBe(first);
    expect(countWithEncoder(o200k, `${prompt}`)).toBe(first);
    // Distinct texts far beyond the memo's size: it is emptied, never grown past its bound.
    const filler = 'word '.repeat(3_000);
    for (let index = 0; index < 100; index++) countWithEncoder(o200k, `${index} ${filler}`);
    expect(o200k.textCountChars).toBeLessThanOrEqual(1_000_000);
    // Texts above the per-text limit are counted each time and not kept.
    const long = 'x '.repeat(10_000);
    countWithEncoder(o200k, long);
    expect(o200k.textCounts.has(long)).toBe(false);
  });

  it('counts special-token text as ordinary text instead of throwing', () => {
    // < | | | end | of | text | | | > in o200k: the API bills it as text as well.
    expect(countWithEncoder(encoder('o200k_base'), '<|endoftext|>')).toBe(7);
  });

  it('merges a long repeated run exactly up to the limit and bounds it by bytes above', () => {
    const atLimit = 'a'.repeat(MAX_EXACT_PIECE_BYTES);
    expect(countWithEncoder(encoder('o200k_base'), atLimit)).toBe(referenceCount('o200k_base', atLimit));
    expect(countWithEncoder(encoder('o200k_base'), atLimit)).toBeLessThan(MAX_EXACT_PIECE_BYTES / 4);
    const overLimit = 'a'.repeat(MAX_EXACT_PIECE_BYTES + 1);
    expect(countWithEncoder(encoder('o200k_base'), overLimit)).toBe(MAX_EXACT_PIECE_BYTES + 1);
  });

  it('counts a very long unpunctuated run quickly, at its byte length', () => {
    const run = '予算は呼び出しの前に確保されます'.repeat(200);
    const started = performance.now();
    const counted = countWithEncoder(encoder('o200k_base'), run);
    expect(performance.now() - started).toBeLessThan(50);
    expect(counted).toBe(utf8ByteLength(run));
  });

  it.each(encodings)('equals js-tiktoken whenever no piece exceeds the limit (%s)', (encoding) => {
    fc.assert(
      fc.property(promptLikeText, (text) => {
        fc.pre(longestPieceBytes(encoding, text) <= MAX_EXACT_PIECE_BYTES);
        expect(countWithEncoder(encoder(encoding), text)).toBe(referenceCount(encoding, text));
      }),
      { numRuns: 500 },
    );
  });

  it.each(encodings)('is never below js-tiktoken nor above the byte length (%s)', (encoding) => {
    fc.assert(
      fc.property(fc.oneof(promptLikeText, fc.string({ unit: 'binary', maxLength: 400 })), (text) => {
        const counted = countWithEncoder(encoder(encoding), text);
        expect(counted).toBeGreaterThanOrEqual(referenceCount(encoding, text));
        expect(counted).toBeLessThanOrEqual(utf8ByteLength(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe('utf8ByteLength', () => {
  it.each(encodings)('bounds the exact token count of any unicode string (%s)', (encoding) => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(utf8ByteLength(text)).toBeGreaterThanOrEqual(referenceCount(encoding, text));
      }),
      { numRuns: 300 },
    );
  });

  it('counts multi-byte characters and lone surrogates as UTF-8 does', () => {
    expect(utf8ByteLength('aé予🙂')).toBe(1 + 2 + 3 + 4);
    expect(utf8ByteLength('\uD800')).toBe(3);
  });
});
