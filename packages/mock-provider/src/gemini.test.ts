import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type } from '@google/genai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './mock-provider';
import { countMockInputTokens, mockOutputText } from './token-scheme';

let mock: MockProvider;
let ai: GoogleGenAI;

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 5 });
  ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: mock.url } });
});
afterEach(async () => {
  await mock.whenIdle();
  mock.reset();
  mock.configure({ outputTokens: 5, reasoningTokens: 0, cacheReadInputTokens: 0, toolCalls: 'when-forced' });
});
afterAll(() => mock.close());

const model = 'gemini-2.5-flash';
const request = {
  model,
  contents: 'Say hello to the mock provider',
  config: { systemInstruction: 'You are terse.' },
};
// systemInstruction 3+3, one user content 3+6, priming 3
const INPUT_TOKENS = 18;

describe('Gemini API generateContent', () => {
  it('answers with candidates and usageMetadata matching what it billed', async () => {
    const response = await ai.models.generateContent(request);

    expect(response.text).toBe(mockOutputText(5));
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: INPUT_TOKENS,
      candidatesTokenCount: 5,
      totalTokenCount: INPUT_TOKENS + 5,
    });
    expect(response.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    const served = mock.requests()[0];
    expect(served).toMatchObject({
      provider: 'gcp.gemini',
      endpoint: 'generate_content',
      model,
      stream: false,
      status: 200,
      completed: true,
      billed: { inputTokens: INPUT_TOKENS, outputTokens: 5 },
    });
    expect(served?.headers['x-goog-api-key']).toBe('test-key');
    expect(response.responseId).toBe(served?.id);
    expect(countMockInputTokens('generate_content', served?.body)).toBe(INPUT_TOKENS);
  });

  it('caps each candidate at maxOutputTokens and multiplies output by candidateCount', async () => {
    const response = await ai.models.generateContent({
      ...request,
      config: { ...request.config, maxOutputTokens: 3, candidateCount: 2 },
    });

    expect(response.candidates?.map((candidate) => candidate.finishReason)).toEqual([
      'MAX_TOKENS',
      'MAX_TOKENS',
    ]);
    expect(response.candidates?.[1]?.content?.parts?.[0]?.text).toBe(mockOutputText(3));
    expect(response.usageMetadata).toMatchObject({
      candidatesTokenCount: 6,
      totalTokenCount: INPUT_TOKENS + 6,
    });
    expect(mock.billed()).toMatchObject({ inputTokens: INPUT_TOKENS, outputTokens: 6 });
  });

  it('reports thoughts inside maxOutputTokens and cached prompt tokens', async () => {
    mock.configure({ reasoningTokens: 4, cacheReadInputTokens: 10 });
    const response = await ai.models.generateContent({
      ...request,
      config: { ...request.config, maxOutputTokens: 6, thinkingConfig: { thinkingBudget: 100 } },
    });

    expect(response.text).toBe(mockOutputText(2));
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: INPUT_TOKENS,
      cachedContentTokenCount: 10,
      candidatesTokenCount: 2,
      thoughtsTokenCount: 4,
      totalTokenCount: INPUT_TOKENS + 6,
    });
    expect(mock.billed()).toMatchObject({
      outputTokens: 6,
      reasoningOutputTokens: 4,
      cacheReadInputTokens: 10,
    });
  });

  it('thinks on 2.5 models unless thinkingBudget is 0, and shows thoughts when asked', async () => {
    mock.configure({ reasoningTokens: 3 });
    const off = await ai.models.generateContent({
      ...request,
      config: { thinkingConfig: { thinkingBudget: 0 } },
    });
    const shown = await ai.models.generateContent({
      ...request,
      config: { thinkingConfig: { includeThoughts: true } },
    });

    expect(off.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    expect(shown.candidates?.[0]?.content?.parts?.[0]).toEqual({ text: mockOutputText(3), thought: true });
    expect(shown.text).toBe(mockOutputText(5));
    expect(shown.usageMetadata?.thoughtsTokenCount).toBe(3);
  });

  it('calls a function when the function calling mode is ANY, then answers its response in text', async () => {
    const tools = [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            parameters: {
              type: Type.OBJECT,
              properties: { city: { type: Type.STRING } },
              required: ['city'],
            },
          },
        ],
      },
    ];
    const first = await ai.models.generateContent({
      model,
      contents: 'Weather in Paris?',
      config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } } },
    });
    expect(first.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'hello' } }]);

    const second = await ai.models.generateContent({
      model,
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'hello' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { celsius: 21 } } }] },
      ],
      config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } } },
    });
    expect(second.text).toBe(mockOutputText(5));
  });

  it('answers JSON mode with a value matching responseSchema', async () => {
    const response = await ai.models.generateContent({
      model,
      contents: 'A city',
      config: {
        responseMimeType: 'application/json',
        responseSchema: { type: Type.OBJECT, properties: { name: { type: Type.STRING } } },
      },
    });
    expect(JSON.parse(response.text ?? '')).toEqual({ name: 'hello' });
  });

  it('bills a chat turn for the whole history the SDK resends', async () => {
    const chat = ai.chats.create({ model });
    await chat.sendMessage({ message: 'one two' });
    await chat.sendMessage({ message: 'three' });

    // Turn 2 resends turn 1 and its reply: 3 contents of 3 + words, plus priming.
    const second = mock.requests()[1];
    expect(second?.billed.inputTokens).toBe(3 + (3 + 2) + (3 + 5) + (3 + 1));
  });
});

describe('Gemini API streamGenerateContent', () => {
  it('streams one word per chunk, prompt-only usage first and full usage last', async () => {
    mock.configure({ reasoningTokens: 2 });
    const stream = await ai.models.generateContentStream(request);
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.map((chunk) => chunk.text).join('')).toBe(mockOutputText(5));
    expect(chunks).toHaveLength(5);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.usageMetadata).toEqual(
        expect.objectContaining({ promptTokenCount: INPUT_TOKENS, totalTokenCount: INPUT_TOKENS }),
      );
      expect(chunk.usageMetadata?.candidatesTokenCount).toBeUndefined();
    }
    const last = chunks.at(-1);
    expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata).toMatchObject({
      promptTokenCount: INPUT_TOKENS,
      candidatesTokenCount: 5,
      thoughtsTokenCount: 2,
      totalTokenCount: INPUT_TOKENS + 7,
    });
    expect(mock.requests()[0]).toMatchObject({ stream: true, completed: true, billed: { outputTokens: 7 } });
  });

  it('stops at maxOutputTokens with finishReason MAX_TOKENS', async () => {
    const stream = await ai.models.generateContentStream({ ...request, config: { maxOutputTokens: 2 } });
    let text = '';
    let finishReason: string | undefined;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      finishReason = chunk.candidates?.[0]?.finishReason ?? finishReason;
    }
    expect(text).toBe(mockOutputText(2));
    expect(finishReason).toBe('MAX_TOKENS');
  });
});

describe('Gemini API countTokens and embeddings', () => {
  it('counts what generateContent would bill, for free', async () => {
    const counted = await ai.models.countTokens({ model, contents: 'Say hello to the mock provider' });
    const generated = await ai.models.generateContent({ model, contents: 'Say hello to the mock provider' });

    expect(counted.totalTokens).toBe(generated.usageMetadata?.promptTokenCount);
    expect(mock.requests()[0]).toMatchObject({ endpoint: 'count_tokens', billed: { inputTokens: 0 } });
  });

  it('embeds through batchEmbedContents with no usage in the response, billing the words', async () => {
    const response = await ai.models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['one two three', 'four'],
      config: { outputDimensionality: 8 },
    });

    expect(response.embeddings).toHaveLength(2);
    expect(response.embeddings?.[0]?.values).toHaveLength(8);
    expect(response.embeddings?.[0]?.statistics).toBeUndefined();
    expect(mock.requests()[0]).toMatchObject({
      endpoint: 'embed_content',
      model: 'gemini-embedding-001',
      billed: { inputTokens: 4, outputTokens: 0 },
    });
    expect(mock.requests()[0]?.body).toHaveProperty('requests');
  });

  it('defaults to 3072 dimensions for gemini-embedding-001', async () => {
    const response = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'x' });
    expect(response.embeddings?.[0]?.values).toHaveLength(3072);
  });
});

describe('Gemini API request checks', () => {
  it('rejects an unknown top-level field with a 400, as the API does', async () => {
    const error = await ai.models
      .generateContent({ ...request, config: { httpOptions: { extraBody: { maxOutputTokens: 5 } } } })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    const body = JSON.parse((error as ApiError).message);
    expect(body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(body.error.message).toContain('Unknown name "maxOutputTokens"');
    expect(mock.requests()[0]).toMatchObject({ status: 400, billed: { inputTokens: 0 } });
  });

  it('rejects an unknown generationConfig field', async () => {
    const error = await ai.models
      .generateContent({
        ...request,
        config: { httpOptions: { extraBody: { generationConfig: { max_tokens: 5 } } } },
      })
      .catch((caught: unknown) => caught);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toContain("at 'generation_config'");
  });
});

describe('Vertex AI', () => {
  // Offline Vertex auth: an auth client that returns a fixed bearer token instead of Google's
  // Application Default Credentials (which look for a key file, then the metadata server).
  const authClient = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer test-token' }) };
  const vertex = () =>
    new GoogleGenAI({
      vertexai: true,
      project: 'test-project',
      location: 'us-central1',
      httpOptions: { baseUrl: mock.url },
      googleAuthOptions: { authClient: authClient as never },
    });

  it('serves generateContent and its stream on the project/location path', async () => {
    const client = vertex();
    const response = await client.models.generateContent(request);
    const stream = await client.models.generateContentStream(request);
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      usage = chunk.usageMetadata;
    }

    expect(response.text).toBe(mockOutputText(5));
    expect(response.usageMetadata?.promptTokenCount).toBe(INPUT_TOKENS);
    expect(text).toBe(mockOutputText(5));
    expect(usage).toMatchObject({ candidatesTokenCount: 5 });
    const [json, streamed] = mock.requests();
    expect(json).toMatchObject({
      provider: 'gcp.vertex_ai',
      endpoint: 'generate_content',
      model,
      stream: false,
    });
    expect(json?.headers.authorization).toBe('Bearer test-token');
    expect(streamed).toMatchObject({ provider: 'gcp.vertex_ai', stream: true, billed: { outputTokens: 5 } });
  });

  it('serves express mode (an API key, no project) on the publishers path', async () => {
    const client = new GoogleGenAI({
      vertexai: true,
      apiKey: 'express-key',
      httpOptions: { baseUrl: mock.url },
    });
    const response = await client.models.generateContent(request);
    const counted = await client.models.countTokens({ model, contents: request.contents });

    expect(response.text).toBe(mockOutputText(5));
    expect(counted.totalTokens).toBe(INPUT_TOKENS - 6);
    expect(mock.requests()[0]?.headers['x-goog-api-key']).toBe('express-key');
    expect(mock.requests().map((served) => served.provider)).toEqual(['gcp.vertex_ai', 'gcp.vertex_ai']);
  });

  it('embeds through :predict with per-instance token counts', async () => {
    const response = await vertex().models.embedContent({
      model: 'text-embedding-005',
      contents: ['one two', 'three'],
      config: { outputDimensionality: 4 },
    });

    expect(response.embeddings?.map((embedding) => embedding.statistics?.tokenCount)).toEqual([2, 1]);
    expect(response.embeddings?.[0]?.values).toHaveLength(4);
    expect(mock.requests()[0]).toMatchObject({ endpoint: 'embed_content', billed: { inputTokens: 3 } });
  });

  it('embeds Gemini embedding models through :embedContent with usageMetadata', async () => {
    const response = await vertex().models.embedContent({
      model: 'gemini-embedding-2',
      contents: 'one two three',
    });

    expect(response.embeddings?.[0]?.statistics?.tokenCount).toBe(3);
    expect(response.embeddings?.[0]?.values).toHaveLength(3072);
  });

  it('accepts Vertex-only fields and rejects unknown ones', async () => {
    const client = vertex();
    await expect(
      client.models.generateContent({ ...request, config: { labels: { team: 'a' } } }),
    ).resolves.toBeDefined();
    const error = await client.models
      .generateContent({ ...request, config: { httpOptions: { extraBody: { max_tokens: 1 } } } })
      .catch((caught: unknown) => caught);
    expect((error as ApiError).status).toBe(400);
  });
});
