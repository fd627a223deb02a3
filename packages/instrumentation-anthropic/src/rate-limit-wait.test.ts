import * as anthropicModule from '@anthropic-ai/sdk';
import { createGuard, type DecisionEvent, type Guard } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnthropicInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

const { Anthropic } = anthropicModule;

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: AnthropicInstrumentation;
let guard: Guard;
let events: DecisionEvent[];
let client: InstanceType<typeof Anthropic>;

const message = {
  model: 'claude-haiku-4-5',
  max_tokens: 20,
  messages: [{ role: 'user' as const, content: 'hello' }],
};

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

beforeEach(() => {
  events = [];
  guard = createGuard({
    // One request every 2 s.
    rateLimits: [{ provider: 'anthropic', rpm: 30, burstRequests: 1, maxWaitMillis: 8_000 }],
    onDecision: (event) => void events.push(event),
  });
  ({ harness, instrumentation } = instrumentSdk(guard));
  mock.reset();
  client = mockClient(mock);
});

afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

describe('a call aborted while it waits for rate-limit capacity (Anthropic SDK)', () => {
  it('rejects at once with the SDK abort error, sends nothing and gives its place to the next call', async () => {
    const started = Date.now();
    await client.messages.create(message);
    const controller = new AbortController();
    const aborted = client.messages.create(message, { signal: controller.signal }).then(
      () => 'sent',
      (error: unknown) => error,
    );
    const next = client.messages.create(message).then(() => Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const abortedAt = Date.now();
    controller.abort();
    const error = await aborted;
    expect(Date.now() - abortedAt).toBeLessThan(50);
    expect(error).toBeInstanceOf(Anthropic.APIUserAbortError);
    // The queued call gets the first refill (about 2 s in), not the one after (4 s).
    expect(await next).toBeLessThan(3_000);
    await mock.whenIdle();
    expect(mock.requests()).toHaveLength(2);
    expect(events.filter((event) => event.type === 'aborted')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'allowed')).toHaveLength(2);
  });

  it('rejects an aborted stream helper call with the SDK abort error, sending nothing', async () => {
    await client.messages.create(message);
    const controller = new AbortController();
    const stream = client.messages.stream(message, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIUserAbortError);
    await mock.whenIdle();
    expect(mock.requests()).toHaveLength(1);
  });
});
