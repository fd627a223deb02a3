import { describe, expect, it } from 'vitest';
import { countTextTokens } from './count-text-tokens';
import { builtEncoder, isEncoderLoaded } from './encoder-loading';
import { isTokenizerReady, warmUpTokenizer } from './tokenizer-warm-up';
import { utf8ByteLength } from './utf8-byte-length';

// Vitest gives each test file its own module registry: no encoder is built when this file starts.
// The tests run in order and share that registry, so each states what it expects to find.

const prompt = 'Summarise the quarterly report in three bullet points, then list every open risk.';

/** Resolves after the event loop has run one more round of immediates. */
const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('counting while the tokenizer is not ready', () => {
  it('returns the byte bound without building the tokenizer on the call, and starts building it', async () => {
    expect(isTokenizerReady('gpt-4o')).toBe(false);
    const bound = countTextTokens('gpt-4o', prompt, { waitForTokenizer: false });
    // The call returned without the encoder: it was not built on the call's path.
    expect(isEncoderLoaded('o200k_base')).toBe(false);
    expect(bound).toBe(utf8ByteLength(prompt));
    // The background build runs in slices: other work gets the event loop in between.
    await nextImmediate();
    await nextImmediate();
    expect(isEncoderLoaded('o200k_base')).toBe(false);
    await warmUpTokenizer('gpt-4o');
    expect(isTokenizerReady('gpt-4o')).toBe(true);
    // Read and parsed in the background, the ranks are the published ones.
    expect(builtEncoder('o200k_base')?.ranks.size).toBe(199_998);
    expect(builtEncoder('o200k_base')?.ranks.get(' world')).toBe(2375);
    const counted = countTextTokens('gpt-4o', prompt, { waitForTokenizer: false });
    expect(counted).toBeGreaterThan(0);
    // Honest in the direction that matters: the bound is never below the count.
    expect(bound).toBeGreaterThanOrEqual(counted);
  });

  it('bounds Claude text at or above the approximation it replaces', async () => {
    expect(isTokenizerReady('claude-sonnet-4-5')).toBe(false);
    const texts = [prompt, 'a b c d e f g h', '日本語のテキスト、句読点。', ' '.repeat(40), 'x'];
    const bounds = texts.map((text) => countTextTokens('claude-opus-4-7', text, { waitForTokenizer: false }));
    await warmUpTokenizer('claude-sonnet-4-5');
    texts.forEach((text, index) => {
      const approximated = countTextTokens('claude-opus-4-7', text, { waitForTokenizer: false });
      expect(bounds[index]).toBeGreaterThanOrEqual(approximated);
    });
  });
});
