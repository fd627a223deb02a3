import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './mock-provider';

let mock: MockProvider;

beforeAll(async () => {
  mock = await startMockProvider({ port: 0, outputTokens: 4 });
});
afterAll(() => mock.close());

describe('Azure OpenAI deployments', () => {
  it('serves /openai/deployments/{deployment}/chat/completions to the real AzureOpenAI client', async () => {
    const azure = new AzureOpenAI({
      endpoint: mock.url,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      maxRetries: 0,
    });
    const { data, response } = await azure.chat.completions
      .create({ model: 'prod-gpt4o', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();

    expect(data.usage?.completion_tokens).toBe(4);
    expect(response.headers.get('x-ratelimit-remaining-requests')).not.toBeNull();
    expect(mock.requests().at(-1)).toMatchObject({
      provider: 'openai',
      endpoint: 'chat.completions',
      model: 'prod-gpt4o',
      headers: expect.objectContaining({ 'api-key': 'azure-key' }),
    });
  });

  it('serves embeddings under a deployment named in the client', async () => {
    const azure = new AzureOpenAI({
      endpoint: mock.url,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      deployment: 'prod-embed',
      maxRetries: 0,
    });
    const result = await azure.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });

    expect(result.data).toHaveLength(1);
    expect(mock.requests().at(-1)).toMatchObject({ endpoint: 'embeddings', model: 'prod-embed' });
  });
});
