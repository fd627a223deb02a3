import { describe, expect, it } from 'vitest';
import { isEncoderLoaded } from '../tokens/encoder-loading';
import { estimateInputTokens } from './estimate-input-tokens';

// Vitest gives each test file its own module registry, so no encoder is loaded here yet.
describe('estimateInputTokens above exactCountMaxBytes', () => {
  it('returns the byte bound without building a tokenizer', () => {
    expect(isEncoderLoaded('cl100k_base')).toBe(false);
    const content = 'é'.repeat(20_000);
    const estimate = estimateInputTokens({
      provider: 'openai',
      operation: 'chat',
      model: 'gpt-4-turbo',
      body: { messages: [{ role: 'user', content }] },
    });
    expect(estimate.method).toBe('byte-bound');
    expect(estimate.encoding).toBeUndefined();
    expect(estimate.estimatedInputTokens).toBeGreaterThanOrEqual(40_000);
    expect(isEncoderLoaded('cl100k_base')).toBe(false);
  });

  it('builds no tokenizer for a request without text, such as pre-tokenized embeddings', () => {
    const estimate = estimateInputTokens({
      provider: 'openai',
      operation: 'embeddings',
      model: 'text-embedding-3-small',
      body: { input: [1, 2, 3] },
    });
    expect(estimate.estimatedInputTokens).toBe(3);
    expect(isEncoderLoaded('cl100k_base')).toBe(false);
  });
});
