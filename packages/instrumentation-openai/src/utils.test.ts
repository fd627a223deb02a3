import { describe, expect, it } from 'vitest';
import { chatUsage, describeEndpoint, responsesUsage } from './utils';

describe('describeEndpoint', () => {
  it('names OpenAI-compatible providers from the base URL', () => {
    expect(describeEndpoint('https://api.openai.com/v1')).toEqual({
      provider: 'openai',
      address: 'api.openai.com',
      port: 443,
    });
    expect(describeEndpoint('https://my-resource.openai.azure.com/openai/deployments/x').provider).toBe(
      'azure.ai.openai',
    );
    expect(describeEndpoint('https://api.groq.com/openai/v1').provider).toBe('groq');
    expect(describeEndpoint('https://api.deepseek.com').provider).toBe('deepseek');
    expect(describeEndpoint('http://127.0.0.1:8080/v1')).toEqual({
      provider: 'openai',
      address: '127.0.0.1',
      port: 8080,
    });
    expect(describeEndpoint('not a url')).toEqual({ provider: 'openai' });
  });
});

describe('usage normalisation', () => {
  it('keeps unknown counts undefined, never zero', () => {
    expect(chatUsage({ prompt_tokens: 10 })).toEqual({
      inputTokens: 10,
      outputTokens: undefined,
      cacheReadInputTokens: undefined,
      reasoningOutputTokens: undefined,
    });
    expect(chatUsage({})).toBeUndefined();
    expect(chatUsage(null)).toBeUndefined();
    expect(
      responsesUsage({ input_tokens: 5, output_tokens: 7, output_tokens_details: { reasoning_tokens: 3 } }),
    ).toMatchObject({
      inputTokens: 5,
      outputTokens: 7,
      reasoningOutputTokens: 3,
    });
  });
});
