import {
  ConverseCommand,
  ConverseStreamCommand,
  InternalServerException,
  InvokeModelCommand,
  ServiceUnavailableException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockClients } from './bedrock-test-support';
import { type MockProvider, startMockProvider } from './mock-provider';
import { mockOutputText } from './token-scheme';

let mock: MockProvider;
const clients = bedrockClients(() => mock.url);
const DEFAULT_LIMITS = { limitRequests: 10_000, limitTokens: 30_000_000, enforce: false };

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 20 });
});
afterEach(async () => {
  await mock.whenIdle();
  mock.reset();
  mock.configure({ chunkDelayMillis: 0, latencyMillis: 0, rateLimit: DEFAULT_LIMITS });
});
afterAll(async () => {
  clients.destroyAll();
  await mock.close();
});

const gemini = (retries = 0) =>
  new GoogleGenAI({
    apiKey: 'k',
    httpOptions: {
      baseUrl: mock.url,
      ...(retries > 0 ? { retryOptions: { attempts: retries + 1, initialDelay: 0.01, jitter: 0 } } : {}),
    },
  });
const bedrock = (maxAttempts = 1) => clients.create({ maxAttempts });
const generate = { model: 'gemini-2.5-flash', contents: 'one two three' };
const converse = {
  modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
  messages: [{ role: 'user' as const, content: [{ text: 'one two three' }] }],
};
const errorBody = (error: unknown) => JSON.parse((error as ApiError).message);

describe('Gemini faults', () => {
  it('answers an injected 429 with RetryInfo and retry-after, which retryOptions retries', async () => {
    mock.inject({ status: 429, retryAfterMs: 1500, provider: 'gcp.gemini' });
    const error = await gemini()
      .models.generateContent(generate)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect(errorBody(error).error).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }],
    });

    mock.inject({ status: 429, retryAfterMs: 10 });
    const response = await gemini(1).models.generateContent(generate);
    expect(response.text).toBe(mockOutputText(20));
    expect(mock.requests().map((served) => served.status)).toEqual([429, 429, 200]);
  });

  it('answers an injected 503 as UNAVAILABLE, which the SDK does not retry by default', async () => {
    mock.inject({ status: 503, endpoint: 'generate_content' });
    const error = await gemini()
      .models.generateContent(generate)
      .catch((caught: unknown) => caught);
    expect((error as ApiError).status).toBe(503);
    expect(errorBody(error).error.status).toBe('UNAVAILABLE');
    expect(mock.requests()).toHaveLength(1);
  });

  it('delays the first chunk of a stream by the fault delay', async () => {
    mock.inject({ kind: 'malformed-usage', delayMillis: 80 });
    const started = Date.now();
    const stream = await gemini().models.generateContentStream(generate);
    let usageSeen = false;
    let text = '';
    for await (const chunk of stream) {
      usageSeen ||= chunk.usageMetadata !== undefined;
      text += chunk.text ?? '';
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(text).toBe(mockOutputText(20));
    expect(usageSeen).toBe(false);
    expect(mock.billed()).toMatchObject({ inputTokens: 9, outputTokens: 20 });
  });

  it('cuts a stream after N chunks, billing only what was sent', async () => {
    mock.inject({ kind: 'disconnect-mid-stream', afterChunks: 3 });
    const stream = await gemini().models.generateContentStream(generate);
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.text ?? '';
    })().catch((caught: unknown) => caught);
    await mock.whenIdle();

    expect(error).toBeInstanceOf(Error);
    expect(text).toBe(mockOutputText(3));
    expect(mock.requests()).toHaveLength(1);
    expect(mock.requests()[0]).toMatchObject({
      completed: false,
      clientAborted: false,
      billed: { outputTokens: 3 },
    });
  });

  it('fails a stream cut before its first chunk without resending it (no continuation token)', async () => {
    mock.inject({ kind: 'disconnect-mid-stream', afterChunks: 0 });
    const stream = await gemini().models.generateContentStream(generate);
    const error = await (async () => {
      for await (const _chunk of stream) {
        // nothing arrives
      }
    })().catch((caught: unknown) => caught);
    await mock.whenIdle();

    expect(error).toBeInstanceOf(Error);
    expect(mock.requests()).toHaveLength(1);
    expect(mock.requests()[0]).toMatchObject({
      status: 200,
      completed: false,
      billed: { inputTokens: 9, outputTokens: 0 },
    });
  });

  it('refuses over-limit requests with RESOURCE_EXHAUSTED when enforcing', async () => {
    mock.configure({ rateLimit: { limitRequests: 1, limitTokens: 1_000_000, enforce: true } });
    const client = gemini();
    await client.models.generateContent(generate);
    const error = await client.models.generateContent(generate).catch((caught: unknown) => caught);

    expect((error as ApiError).status).toBe(429);
    expect(errorBody(error).error.details[0].retryDelay).toMatch(/^\d+(\.\d+)?s$/);
  });
});

describe('Bedrock faults', () => {
  it('answers an injected 429 as ThrottlingException, which the SDK retries', async () => {
    mock.inject({ status: 429, retryAfterMs: 10, provider: 'aws.bedrock' });
    const output = await bedrock(2).send(new ConverseCommand(converse));

    expect(output.usage?.outputTokens).toBe(20);
    expect(output.$metadata.attempts).toBe(2);
    const [throttled, served] = mock.requests();
    expect(throttled).toMatchObject({ status: 429, httpVersion: '2.0', billed: { inputTokens: 0 } });
    expect(served?.headers['amz-sdk-request']).toBe('attempt=2; max=2');

    mock.inject({ status: 429, retryAfterSeconds: 1 });
    const error = await bedrock()
      .send(new ConverseCommand(converse))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThrottlingException);
    expect((error as ThrottlingException).$response?.headers?.['retry-after']).toBe('1');
  });

  it('answers 500 and 503 as the modelled server exceptions', async () => {
    mock.inject({ status: 500, endpoint: 'invoke_model' });
    mock.inject({ status: 503, endpoint: 'converse' });
    const client = bedrock();
    const invoke = await client
      .send(
        new InvokeModelCommand({
          modelId: 'meta.llama3-8b-instruct-v1:0',
          body: JSON.stringify({ prompt: 'hi', max_gen_len: 5 }),
        }),
      )
      .catch((caught: unknown) => caught);
    const chat = await client.send(new ConverseCommand(converse)).catch((caught: unknown) => caught);

    expect(invoke).toBeInstanceOf(InternalServerException);
    expect(chat).toBeInstanceOf(ServiceUnavailableException);
    expect(mock.requests().map((served) => [served.endpoint, served.status])).toEqual([
      ['invoke_model', 500],
      ['converse', 503],
    ]);
  });

  it('delays the first ConverseStream event by the fault delay', async () => {
    mock.inject({ kind: 'malformed-usage', delayMillis: 80, endpoint: 'converse' });
    const started = Date.now();
    const output = await bedrock().send(new ConverseStreamCommand(converse));
    let metadata: unknown;
    for await (const event of output.stream ?? []) if (event.metadata) metadata = event.metadata;

    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(metadata).toEqual({ metrics: { latencyMs: 1 } });
    expect(mock.billed()).toMatchObject({ inputTokens: 9, outputTokens: 20 });
  });

  it('resets a ConverseStream after N events, billing only what was sent', async () => {
    mock.inject({ kind: 'disconnect-mid-stream', afterChunks: 4 });
    const output = await bedrock().send(new ConverseStreamCommand(converse));
    let text = '';
    const error = await (async () => {
      for await (const event of output.stream ?? []) text += event.contentBlockDelta?.delta?.text ?? '';
    })().catch((caught: unknown) => caught);
    await mock.whenIdle();

    expect(error).toBeInstanceOf(Error);
    // Event 1 is messageStart, events 2-4 carry three words.
    expect(text).toBe(mockOutputText(3));
    expect(mock.requests()[0]).toMatchObject({
      completed: false,
      clientAborted: false,
      billed: { outputTokens: 3 },
    });
  });

  it('refuses over-limit requests with a ThrottlingException when enforcing', async () => {
    mock.configure({ rateLimit: { limitRequests: 1, limitTokens: 1_000_000, enforce: true } });
    const client = bedrock();
    await client.send(new ConverseCommand(converse));
    const error = await client.send(new ConverseCommand(converse)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ThrottlingException);
    expect((error as Error).message).toBe('Too many requests, please wait before trying again.');
  });
});

describe('client hang-ups', () => {
  it('notices a Gemini stream aborted through abortSignal and bills the partial output', async () => {
    mock.configure({ chunkDelayMillis: 10 });
    const controller = new AbortController();
    const stream = await gemini().models.generateContentStream({
      ...generate,
      config: { abortSignal: controller.signal },
    });
    let chunks = 0;
    const error = await (async () => {
      for await (const _chunk of stream) if (++chunks === 3) controller.abort();
    })().catch((caught: unknown) => caught);
    await mock.whenIdle();
    const served = mock.requests()[0];

    expect((error as Error).name).toBe('AbortError');
    expect(served).toMatchObject({ clientAborted: true, completed: false });
    expect(served?.billed.outputTokens).toBeGreaterThanOrEqual(3);
    expect(served?.billed.outputTokens).toBeLessThan(20);
  });

  it('keeps streaming (and billing) a Gemini response after the caller breaks out of it', async () => {
    mock.configure({ chunkDelayMillis: 5 });
    const stream = await gemini().models.generateContentStream(generate);
    for await (const _chunk of stream) break;
    await mock.whenIdle();

    // The SDK releases its reader on break without cancelling the request.
    expect(mock.requests()[0]).toMatchObject({
      clientAborted: false,
      completed: true,
      billed: { outputTokens: 20 },
    });
  });

  it('notices a ConverseStream aborted through abortSignal over HTTP/2', async () => {
    mock.configure({ chunkDelayMillis: 10 });
    const controller = new AbortController();
    const output = await bedrock().send(new ConverseStreamCommand(converse), {
      abortSignal: controller.signal,
    });
    let events = 0;
    let metadata = false;
    // The SDK ends the iteration quietly on abort: no error, and no metadata event with usage.
    for await (const event of output.stream ?? []) {
      metadata ||= event.metadata !== undefined;
      if (++events === 3) controller.abort();
    }
    await mock.whenIdle();
    const served = mock.requests()[0];

    expect(metadata).toBe(false);
    expect(served).toMatchObject({ httpVersion: '2.0', clientAborted: true, completed: false });
    expect(served?.billed.outputTokens).toBeLessThan(20);
  });

  it('keeps streaming (and billing) a ConverseStream after the caller breaks out of it', async () => {
    mock.configure({ chunkDelayMillis: 5 });
    const output = await bedrock().send(new ConverseStreamCommand(converse));
    for await (const _event of output.stream ?? []) break;
    await mock.whenIdle();

    expect(mock.requests()[0]).toMatchObject({
      clientAborted: false,
      completed: true,
      billed: { outputTokens: 20 },
    });
  });
});
