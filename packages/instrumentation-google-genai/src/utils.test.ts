import { describe, expect, it } from 'vitest';
import {
  bareModelId,
  embeddedTexts,
  embeddingTokenCount,
  finishReasons,
  generateContentUsage,
  retryDelayMillis,
} from './utils';

describe('generateContentUsage', () => {
  it('adds tool-use prompt tokens to the input and thoughts to the output', () => {
    expect(
      generateContentUsage({
        promptTokenCount: 100,
        toolUsePromptTokenCount: 30,
        cachedContentTokenCount: 40,
        candidatesTokenCount: 12,
        thoughtsTokenCount: 8,
        totalTokenCount: 150,
      }),
    ).toEqual({ inputTokens: 130, outputTokens: 20, cacheReadInputTokens: 40, reasoningOutputTokens: 8 });
  });

  it('reads counts the API leaves out as zero, and no promptTokenCount as no usage', () => {
    expect(generateContentUsage({ promptTokenCount: 7 })).toEqual({
      inputTokens: 7,
      outputTokens: 0,
      cacheReadInputTokens: undefined,
      reasoningOutputTokens: undefined,
    });
    expect(generateContentUsage({ candidatesTokenCount: 3 })).toBeUndefined();
    expect(generateContentUsage(undefined)).toBeUndefined();
    expect(generateContentUsage({ promptTokenCount: -1 })).toBeUndefined();
  });
});

describe('request and response details', () => {
  it('reads bare model ids from every resource-name form', () => {
    for (const model of [
      'gemini-2.5-flash',
      'models/gemini-2.5-flash',
      'publishers/google/models/gemini-2.5-flash',
      'projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash',
      'google/gemini-2.5-flash',
    ]) {
      expect(bareModelId(model)).toBe('gemini-2.5-flash');
    }
  });

  it('lists finish reasons per candidate', () => {
    expect(
      finishReasons({ candidates: [{ finishReason: 'STOP' }, {}, { finishReason: 'MAX_TOKENS' }] }),
    ).toEqual(['STOP', 'MAX_TOKENS']);
  });

  it('reads the text an embedding call embeds, and the token counts Vertex reports', () => {
    expect(
      embeddedTexts({ contents: ['a', { parts: [{ text: 'b' }, { text: 'c' }] }, { text: 'd' }] }),
    ).toEqual(['a', 'b\nc', 'd']);
    expect(embeddedTexts({ contents: 'solo' })).toEqual(['solo']);
    expect(
      embeddingTokenCount({
        embeddings: [{ statistics: { tokenCount: 2 } }, { statistics: { tokenCount: 3 } }],
      }),
    ).toBe(5);
    expect(embeddingTokenCount({ embeddings: [{ values: [0.1] }] })).toBeUndefined();
    expect(embeddingTokenCount({ embeddings: [{}], usageMetadata: { promptTokenCount: 4 } })).toBe(4);
  });
});

describe('retryDelayMillis', () => {
  it("reads RetryInfo.retryDelay from the error body the SDK's ApiError carries", () => {
    const body = {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure' },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' },
        ],
      },
    };
    expect(retryDelayMillis(new Error(JSON.stringify(body)))).toBe(1500);
    expect(retryDelayMillis(new Error('{"retryDelay": oops'))).toBeUndefined();
    expect(retryDelayMillis(new Error('Too many requests'))).toBeUndefined();
    expect(retryDelayMillis(undefined)).toBeUndefined();
  });
});
