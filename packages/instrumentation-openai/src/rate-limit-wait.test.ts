import { createGuard, type DecisionEvent, type Guard, RateLimitedError } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import * as openaiModule from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAIInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

const { OpenAI } = openaiModule;

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: OpenAIInstrumentation;
let guard: Guard;
let events: DecisionEvent[];
let client: InstanceType<typeof OpenAI>;

const chatParams = {
  model: 'gpt-4o-mini',
  max_tokens: 20,
  messages: [{ role: 'user' as const, content: 'hello' }],
};

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

function setup(config: Parameters<typeof createGuard>[0]): void {
  events = [];
  guard = createGuard({ ...config, onDecision: (event) => void events.push(event) });
  instrumentation.setConfig({ guard });
}

beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  mock.reset();
  client = mockClient(mock);
});

afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
  mock.configure({ rateLimit: { limitRequests: 10_000, limitTokens: 30_000_000, enforce: false } });
});

describe('a call aborted while it waits for rate-limit capacity (openai SDK)', () => {
  it('rejects at once with the SDK abort error, sends nothing and gives its place to the next call', async () => {
    // One request every 2 s.
    setup({
      rateLimits: [
        { provider: 'openai', model: 'gpt-4o-mini', rpm: 30, burstRequests: 1, maxWaitMillis: 8_000 },
      ],
    });
    const started = Date.now();
    await client.chat.completions.create(chatParams);
    const controller = new AbortController();
    const aborted = client.chat.completions.create(chatParams, { signal: controller.signal }).then(
      () => 'sent',
      (error: unknown) => error,
    );
    const next = client.chat.completions.create(chatParams).then(() => Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const abortedAt = Date.now();
    controller.abort();
    const error = await aborted;
    expect(Date.now() - abortedAt).toBeLessThan(50);
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    // The queued call gets the first refill (about 2 s in), not the one after (4 s).
    expect(await next).toBeLessThan(3_000);
    await mock.whenIdle();
    expect(mock.requests()).toHaveLength(2);
    expect(events.filter((event) => event.type === 'aborted')).toHaveLength(1);
    // Nothing reserved or settled for the aborted call: only the two sent calls were allowed.
    expect(events.filter((event) => event.type === 'allowed')).toHaveLength(2);
  });

  it('rejects an already-aborted call without queueing', async () => {
    setup({
      rateLimits: [
        { provider: 'openai', model: 'gpt-4o-mini', rpm: 60, burstRequests: 1, maxWaitMillis: 200 },
      ],
    });
    const error = await client.chat.completions
      .create(chatParams, { signal: AbortSignal.abort() })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    // The bucket's only permit is still there.
    await client.chat.completions.create(chatParams);
    expect(mock.requests()).toHaveLength(1);
  });
});

describe('provider feedback from concurrent replies (openai SDK)', () => {
  it('keeps admitting after 16 concurrent replies report x-ratelimit-remaining-requests below the local limit', async () => {
    // The provider allows 1,000 a minute; the local limit is 100,000. Every reply says ~990 remain.
    mock.configure({ rateLimit: { limitRequests: 1_000, limitTokens: 30_000_000, enforce: false } });
    setup({ rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 100_000, maxWaitMillis: 300 }] });
    // The 16 replies reach the SDK in the same turn of the event loop, as they do from a busy
    // provider: each response is held until all have arrived, then all are handed over at once.
    const held: (() => void)[] = [];
    const together: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      await new Promise<void>((release) => {
        held.push(release);
        if (held.length === 16) for (const each of held) each();
      });
      return response;
    };
    const concurrent = new OpenAI({
      apiKey: 'test-key',
      baseURL: mock.openaiBaseUrl,
      maxRetries: 0,
      fetch: together,
    });
    await Promise.all(Array.from({ length: 16 }, () => concurrent.chat.completions.create(chatParams)));
    await mock.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A bucket driven below zero would refuse every call for minutes.
    const next = await client.chat.completions.create(chatParams).catch((error: unknown) => error);
    expect(RateLimitedError.isInstance(next)).toBe(false);
    expect(events.filter((event) => event.type === 'rate-limited')).toHaveLength(0);
    expect(events.filter((event) => event.type === 'limiter-update-failed')).toHaveLength(0);
  });
});
