import { createGuard, type DecisionEvent, type Guard } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

let mock: MockProvider;
let sdk: InstrumentedSdk | undefined;
let guard: Guard | undefined;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});
afterEach(async () => {
  if (sdk) await uninstrumentSdk(sdk, guard);
  sdk = undefined;
  guard = undefined;
});

const chatParams = {
  model: 'gpt-4o',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'Say hello to the test suite' }],
};

describe('OpenAIInstrumentation — failover on an open circuit', () => {
  it('sends gpt-4o calls to gpt-4o-mini once 5xx errors open the gpt-4o circuit', async () => {
    const events: DecisionEvent[] = [];
    guard = createGuard({
      budgets: [{ id: 'daily', limit: { usd: 50 }, window: 'day' }],
      circuitBreakers: [{ provider: 'openai', model: 'gpt-4o', minCalls: 3, errorRateAbove: 0.5 }],
      policies: [
        {
          id: 'failover',
          when: { budget: 'daily', usedAbove: 0.8, circuitOpen: true },
          action: 'fallback',
          models: { 'gpt-4o': 'gpt-4o-mini' },
        },
      ],
      onDecision: (event) => void events.push(event),
    });
    sdk = instrumentSdk(guard);
    mock.reset();
    mock.configure({ outputTokens: 12, chunkDelayMillis: 0, latencyMillis: 0 });
    const client = mockClient(mock);

    mock.inject({ status: 500, times: 3, model: 'gpt-4o' });
    for (let i = 0; i < 3; i++) await expect(client.chat.completions.create(chatParams)).rejects.toThrow();
    const reply = await client.chat.completions.create(chatParams);
    const stream = await client.chat.completions.create({ ...chatParams, stream: true });
    for await (const _chunk of stream) {
      // drained: the span ends with the stream
    }
    await mock.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 5));

    expect(mock.requests().map((request) => request.model)).toEqual([
      'gpt-4o',
      'gpt-4o',
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4o-mini',
    ]);
    expect(reply.model).toContain('gpt-4o-mini');
    expect(events.filter((event) => event.type === 'model-fallback')).toEqual([
      expect.objectContaining({ fromModel: 'gpt-4o', toModel: 'gpt-4o-mini', trigger: 'circuit-open' }),
      expect.objectContaining({ fromModel: 'gpt-4o', toModel: 'gpt-4o-mini', trigger: 'circuit-open' }),
    ]);
    expect(events.some((event) => event.type === 'circuit-open')).toBe(false);
    const spans = sdk.harness.spans.getFinishedSpans().slice(-2);
    for (const span of spans) {
      expect(span.name).toBe('chat gpt-4o-mini');
      expect(span.attributes).toMatchObject({
        'gen_ai.request.model': 'gpt-4o-mini',
        'tollgate.fallback.from_model': 'gpt-4o',
        'tollgate.price.model': 'gpt-4o-mini',
        'tollgate.gate.decision': 'allowed',
      });
    }
  });
});
