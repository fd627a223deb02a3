import Anthropic, { type APIError as AnthropicApiError } from '@anthropic-ai/sdk';
import OpenAI, { type APIError as OpenAIApiError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './mock-provider';
import { mockOutputText } from './token-scheme';

let mock: MockProvider;
const DEFAULT_LIMITS = { limitRequests: 10_000, limitTokens: 30_000_000, enforce: false };

beforeAll(async () => {
  mock = await startMockProvider({ port: 0, outputTokens: 20 });
});
afterEach(async () => {
  await mock.whenIdle();
  mock.reset();
  mock.configure({
    chunkDelayMillis: 0,
    latencyMillis: 0,
    includeUsageInStream: 'auto',
    rateLimit: DEFAULT_LIMITS,
  });
});
afterAll(() => mock.close());

const openaiClient = (maxRetries = 0) => new OpenAI({ baseURL: mock.openaiBaseUrl, apiKey: 'k', maxRetries });
const anthropicClient = (maxRetries = 0) =>
  new Anthropic({ baseURL: mock.anthropicBaseUrl, apiKey: 'k', maxRetries });
const remaining = (response: Response, name: string) => Number(response.headers.get(name));
const expectBetween = (value: number, low: number, high: number) => {
  expect(value).toBeGreaterThanOrEqual(low);
  expect(value).toBeLessThanOrEqual(high);
};
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'one two three' }] };
const message = {
  model: 'claude-haiku-4-5',
  max_tokens: 100,
  messages: [{ role: 'user' as const, content: 'one two' }],
};

describe('injected HTTP errors', () => {
  it('makes the OpenAI SDK retry a 429 after retry-after-ms, recording each attempt', async () => {
    mock.inject({ status: 429, retryAfterMs: 30, times: 2 });
    const started = Date.now();
    const completion = await openaiClient(2).chat.completions.create(chat);

    expect(completion.choices[0]?.message.content).toBe(mockOutputText(20));
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(mock.requests().map((served) => served.status)).toEqual([429, 429, 200]);
    expect(mock.requests()[0]?.billed.inputTokens).toBe(0);
    expect(mock.requests()[1]?.headers['x-stainless-retry-count']).toBe('1');
    expect(mock.billed()).toMatchObject({ requests: 3, outputTokens: 20 });
  });

  it('surfaces a 429 as RateLimitError with retry-after headers once retries run out', async () => {
    mock.inject({ status: 429, retryAfterSeconds: 0.01, times: 2 });
    const error = await openaiClient(1)
      .chat.completions.create(chat)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as OpenAIApiError).headers?.get('retry-after')).toBe('0.01');
    expect((error as OpenAIApiError).code).toBe('rate_limit_exceeded');
    expect(mock.requests()).toHaveLength(2);
  });

  it('surfaces a 500 as InternalServerError in the OpenAI error shape', async () => {
    mock.inject({ status: 500 });
    const error = await openaiClient()
      .chat.completions.create(chat)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as OpenAIApiError).status).toBe(500);
    expect((error as OpenAIApiError).type).toBe('server_error');
    expect((error as OpenAIApiError).requestID).toBe(mock.requests()[0]?.id);
  });

  it('makes the Anthropic SDK retry a 529 and raise OverloadedError when it persists', async () => {
    mock.inject({ status: 529, retryAfterMs: 5, times: 1 });
    const retried = await anthropicClient(1).messages.create(message);
    expect(retried.content).toEqual([{ type: 'text', text: mockOutputText(20) }]);

    mock.inject({ status: 529, times: Number.POSITIVE_INFINITY, provider: 'anthropic' });
    const error = await anthropicClient(0)
      .messages.create(message)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.OverloadedError);
    expect((error as AnthropicApiError).type).toBe('overloaded_error');
    expect(mock.requests().map((served) => served.status)).toEqual([529, 200, 529]);
  });

  it('only faults requests that match endpoint and model', async () => {
    mock.inject({ status: 503, endpoint: 'embeddings' });
    mock.inject({ status: 502, model: 'gpt-4.1' });
    const client = openaiClient();

    await expect(client.chat.completions.create(chat)).resolves.toBeDefined();
    await expect(client.chat.completions.create({ ...chat, model: 'gpt-4.1' })).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    await expect(
      client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }),
    ).rejects.toMatchObject({
      status: 503,
    });
    expect(mock.requests().map((served) => served.status)).toEqual([200, 502, 503]);
  });

  it('stalls a faulted request for delayMillis', async () => {
    mock.inject({ status: 500, delayMillis: 60 });
    const started = Date.now();
    await openaiClient()
      .chat.completions.create(chat)
      .catch(() => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe('stream interruptions', () => {
  it('cuts the connection after N events and bills only what was sent', async () => {
    mock.inject({ kind: 'disconnect-mid-stream', afterChunks: 4 });
    const stream = await openaiClient().chat.completions.create({ ...chat, stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    await mock.whenIdle();

    expect(error).toBeInstanceOf(Error);
    // Event 1 is the role chunk, events 2-4 carry three words.
    expect(text).toBe(mockOutputText(3));
    expect(mock.requests()[0]).toMatchObject({
      completed: false,
      clientAborted: false,
      status: 200,
      billed: { outputTokens: 3 },
    });
  });

  it('notices an OpenAI client that breaks out of a stream, and bills the partial output', async () => {
    mock.configure({ chunkDelayMillis: 10 });
    const stream = await openaiClient().chat.completions.create({ ...chat, stream: true });
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) received++;
      if (received === 3) break;
    }
    await mock.whenIdle();
    const served = mock.requests()[0];

    expect(served).toMatchObject({ clientAborted: true, completed: false });
    expect(served?.billed.outputTokens).toBeGreaterThanOrEqual(3);
    expect(served?.billed.outputTokens).toBeLessThan(20);
    expect(mock.billed().outputTokens).toBe(served?.billed.outputTokens);
  });

  it('notices an Anthropic stream aborted through AbortController', async () => {
    mock.configure({ chunkDelayMillis: 10 });
    const controller = new AbortController();
    const stream = anthropicClient().messages.stream(message, { signal: controller.signal });
    let deltas = 0;
    stream.on('text', () => {
      deltas++;
      if (deltas === 2) controller.abort();
    });
    await stream.done().catch(() => undefined);
    await mock.whenIdle();
    const served = mock.requests()[0];

    expect(served?.clientAborted).toBe(true);
    expect(served?.billed.inputTokens).toBe(8);
    expect(served?.billed.outputTokens).toBeGreaterThanOrEqual(2);
    expect(served?.billed.outputTokens).toBeLessThan(20);
  });

  it('records a client that gives up during latency as 499 with nothing billed', async () => {
    mock.configure({ latencyMillis: 200 });
    const error = await openaiClient()
      .chat.completions.create(chat, { timeout: 30 })
      .catch((caught: unknown) => caught);
    await mock.whenIdle();

    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(mock.requests()[0]).toMatchObject({ status: 499, clientAborted: true, completed: false });
    expect(mock.billed()).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });
});

describe('malformed usage', () => {
  it('leaves usage out while still billing the tokens', async () => {
    mock.inject({ kind: 'malformed-usage', times: 3 });
    const client = openaiClient();
    const completion = await client.chat.completions.create(chat);
    const stream = await client.chat.completions.create({
      ...chat,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usageSeen = false;
    for await (const chunk of stream) usageSeen ||= Boolean(chunk.usage);
    const anthropicMessage = await anthropicClient().messages.stream(message).finalMessage();

    expect(completion.usage).toBeUndefined();
    expect(usageSeen).toBe(false);
    expect(anthropicMessage.usage.output_tokens).toBeUndefined();
    expect(anthropicMessage.usage.input_tokens).toBeUndefined();
    expect(mock.billed()).toMatchObject({ requests: 3, outputTokens: 60 });
  });
});

describe('rate-limit headers', () => {
  it('sends OpenAI x-ratelimit headers whose remaining counts go down', async () => {
    mock.configure({ rateLimit: { limitRequests: 60, limitTokens: 10_000, enforce: false } });
    const client = openaiClient();
    const started = performance.now();
    const first = await client.chat.completions.create(chat).withResponse();
    const second = await client.chat.completions.create(chat).withResponse();
    // Tokens the window refilled while the two calls ran (10,000 per minute), so a slow machine cannot fail the test.
    const refilled = Math.ceil(((performance.now() - started) * 10_000) / 60_000) + 1;
    const header = (response: Response, name: string) => response.headers.get(name);

    expect(header(first.response, 'x-ratelimit-limit-requests')).toBe('60');
    expect(header(first.response, 'x-ratelimit-remaining-requests')).toBe('59');
    expect(header(second.response, 'x-ratelimit-remaining-requests')).toBe('58');
    // 9 input tokens + 20 planned output each; the window refills at 10,000/min meanwhile.
    expectBetween(
      remaining(first.response, 'x-ratelimit-remaining-tokens'),
      10_000 - 29,
      10_000 - 29 + refilled,
    );
    expectBetween(
      remaining(second.response, 'x-ratelimit-remaining-tokens'),
      10_000 - 58,
      10_000 - 58 + refilled,
    );
    expect(header(first.response, 'x-ratelimit-reset-requests')).toBe('1s');
    expect(header(second.response, 'x-ratelimit-reset-requests')).toMatch(/^(1\.9\d*|2)s$/);
    expect(header(first.response, 'x-ratelimit-reset-tokens')).toMatch(/^\d+ms$/);
    expect(header(first.response, 'x-request-id')).toBe(mock.requests()[0]?.id);
  });

  it('sends them on every kind of reply, from one window per model', async () => {
    // One request a second refills: less than one in the time these four calls take.
    mock.configure({ rateLimit: { limitRequests: 60, limitTokens: 1_000_000, enforce: false } });
    const client = openaiClient();
    const replies = [
      (await client.chat.completions.create(chat).withResponse()).response,
      (await client.chat.completions.create({ ...chat, stream: true }).withResponse()).response,
      (await client.responses.create({ model: chat.model, input: 'hi' }).withResponse()).response,
      (await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' }).withResponse())
        .response,
    ];
    const remainingRequests = replies.map((response) =>
      response.headers.get('x-ratelimit-remaining-requests'),
    );
    // Chat, streamed chat and responses share gpt's window; the embedding model has its own.
    expect(remainingRequests).toEqual(['59', '58', '57', '59']);
    for (const response of replies) {
      expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('1000000');
      expect(response.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+(\.\d+)?m?s$/);
    }
  });

  it('sends Anthropic anthropic-ratelimit headers with RFC 3339 resets', async () => {
    mock.configure({ rateLimit: { limitRequests: 50, limitTokens: 1_000, enforce: false } });
    const client = anthropicClient();
    const started = performance.now();
    const first = await client.messages.create(message).withResponse();
    const second = await client.messages.create(message).withResponse();
    const refilled = Math.ceil(((performance.now() - started) * 1_000) / 60_000) + 1;

    expect(first.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('49');
    expect(second.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('48');
    // 8 input + max_tokens 100 each; the window refills at 1,000/min meanwhile.
    expectBetween(
      remaining(second.response, 'anthropic-ratelimit-tokens-remaining'),
      1_000 - 216,
      1_000 - 216 + refilled,
    );
    const reset = first.response.headers.get('anthropic-ratelimit-tokens-reset') ?? '';
    expect(reset).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(reset)).toBeGreaterThan(Date.now());
    expect(first.response.headers.get('request-id')).toBe(mock.requests()[0]?.id);
  });

  it('refuses requests over the limit with a 429 when enforcing', async () => {
    mock.configure({ rateLimit: { limitRequests: 2, limitTokens: 1_000_000, enforce: true } });
    const client = openaiClient();
    await client.chat.completions.create(chat);
    await client.chat.completions.create(chat);
    const error = await client.chat.completions.create(chat).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as OpenAIApiError).type).toBe('requests');
    expect(Number((error as OpenAIApiError).headers?.get('retry-after-ms'))).toBeGreaterThan(0);
    expect((error as OpenAIApiError).headers?.get('x-ratelimit-remaining-requests')).toBe('0');
  });

  it('sends none when rateLimit is false', async () => {
    mock.configure({ rateLimit: false });
    const { response } = await openaiClient().chat.completions.create(chat).withResponse();
    expect(response.headers.get('x-ratelimit-limit-requests')).toBeNull();
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
  });
});
