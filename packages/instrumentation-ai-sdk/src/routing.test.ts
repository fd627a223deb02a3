import {
  CircuitOpenError,
  createGuard,
  type Guard,
  type GuardConfig,
  TollgateConfigError,
} from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AiSdkInstrumentation } from './instrumentation';
import { tollgateMiddleware } from './middleware';
import {
  type InstrumentedSdk,
  instrumentSdk,
  mockProviders,
  settled,
  tollgateSpans,
  uninstrumentSdk,
} from './test-support';

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard;

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 5 });
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  guard = createGuard();
  sdk = instrumentSdk(guard);
  mock.reset();
});
afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
});

const FAILOVER: GuardConfig = {
  budgets: [{ id: 'tokens', limit: { tokens: 1_000_000 }, window: 'day' }],
  circuitBreakers: [
    { provider: 'openai', model: 'gpt-4o-mini', minCalls: 2, errorRateAbove: 0.5, openMillis: 60_000 },
  ],
  policies: [
    {
      id: 'failover',
      when: { circuitOpen: true },
      action: 'fallback',
      models: { 'gpt-4o-mini': 'anthropic:claude-haiku-4-5' },
    },
  ],
};

/** Two failed calls open gpt-4o-mini's circuit. */
async function openCircuit(model: Parameters<typeof generateText>[0]['model']): Promise<void> {
  mock.inject({ provider: 'openai', status: 503, times: 2 });
  for (let attempt = 0; attempt < 2; attempt++) {
    await generateText({ model, prompt: 'hi', maxOutputTokens: 20, maxRetries: 0 }).catch(() => undefined);
  }
  expect(guard.circuits.states()).toContainEqual(
    expect.objectContaining({ provider: 'openai', model: 'gpt-4o-mini', state: 'open' }),
  );
  mock.reset();
}

describe('substitutes on another provider', () => {
  it('an open circuit sends the call to the registered model of another provider, priced and settled as that model', async () => {
    guard = createGuard(FAILOVER);
    const providers = mockProviders(mock);
    sdk.instrumentation.setConfig({
      guard,
      models: { 'anthropic:claude-haiku-4-5': providers.anthropic('claude-haiku-4-5') },
    });
    const asked = providers.openai('gpt-4o-mini');
    await openCircuit(asked);

    const result = await generateText({
      model: asked,
      prompt: 'Say hello to the mock provider',
      maxOutputTokens: 50,
    });
    const stream = streamText({
      model: asked,
      prompt: 'Say hello to the mock provider',
      maxOutputTokens: 50,
    });
    expect(await stream.text).toBe('Hello world this is a');
    await settled(mock);

    expect(result.text).toBe('Hello world this is a');
    expect(mock.requests().map((request) => `${request.provider} ${request.model}`)).toEqual([
      'anthropic claude-haiku-4-5',
      'anthropic claude-haiku-4-5',
    ]);
    const failedOver = tollgateSpans(sdk).slice(-2);
    expect(failedOver).toHaveLength(2);
    for (const span of failedOver) {
      expect(span.attributes).toMatchObject({
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-haiku-4-5',
        'tollgate.fallback.from_provider': 'openai',
        'tollgate.fallback.from_model': 'gpt-4o-mini',
        'tollgate.price.model': 'claude-haiku-4-5',
        'tollgate.usage.source': 'provider',
      });
    }
    const billed = mock.billed();
    const status = (await guard.budgetStatus('tokens'))[0]!;
    expect(status.reserved).toBe(0);
    expect(status.spent).toBeGreaterThanOrEqual(billed.inputTokens + billed.outputTokens);
  });

  it('without registered models, another provider is out of reach: the open circuit refuses as before', async () => {
    guard = createGuard(FAILOVER);
    sdk.instrumentation.setConfig({ guard });
    const asked = mockProviders(mock).openai('gpt-4o-mini');
    await openCircuit(asked);

    const refusal = await generateText({ model: asked, prompt: 'hi', maxOutputTokens: 20 }).catch(
      (error: unknown) => error,
    );
    expect(CircuitOpenError.isInstance(refusal)).toBe(true);
    expect(mock.requests()).toHaveLength(0);
  });

  it('a substitute nobody registered is out of reach too: the rule does not apply and nothing is sent', async () => {
    guard = createGuard(FAILOVER);
    const providers = mockProviders(mock);
    sdk.instrumentation.setConfig({ guard, models: { 'openai:gpt-4o': providers.openai('gpt-4o') } });
    const asked = providers.openai('gpt-4o-mini');
    await openCircuit(asked);

    const refusal = await generateText({ model: asked, prompt: 'hi', maxOutputTokens: 20 }).catch(
      (error: unknown) => error,
    );
    expect(CircuitOpenError.isInstance(refusal)).toBe(true);
    expect(mock.requests()).toHaveLength(0);
  });

  it('a cheapest rule runs each call on the cheapest registered model, from the middleware too', async () => {
    guard = createGuard({
      policies: [
        { id: 'cheap', action: 'cheapest', models: ['openai:gpt-4o-mini', 'anthropic:claude-haiku-4-5'] },
      ],
    });
    const providers = mockProviders(mock, 'cjs');
    const models = { 'openai:gpt-4o-mini': providers.openai('gpt-4o-mini') };
    sdk.instrumentation.setConfig({ guard, models });
    await generateText({ model: providers.anthropic('claude-haiku-4-5'), prompt: 'hi', maxOutputTokens: 20 });
    const wrapped = wrapLanguageModel({
      model: providers.anthropic('claude-haiku-4-5'),
      middleware: [{ specificationVersion: 'v3', transformParams: async ({ params }) => params }],
    });
    const viaMiddleware = wrapLanguageModel({
      model: wrapped,
      middleware: tollgateMiddleware({ guard, models }),
    });
    await generateText({ model: viaMiddleware, prompt: 'hi', maxOutputTokens: 20 });
    await settled(mock);

    expect(mock.requests().map((request) => request.provider)).toEqual(['openai', 'openai']);
    expect(tollgateSpans(sdk)).toHaveLength(2);
    expect(tollgateSpans(sdk).map((span) => span.attributes['tollgate.fallback.from_provider'])).toEqual([
      'anthropic',
      'anthropic',
    ]);
  });

  it('checks models when it is set, naming the entry', () => {
    const model = mockProviders(mock).anthropic('claude-haiku-4-5');
    expect(() => new AiSdkInstrumentation({ guard, models: { 'claude-haiku-4-5': model } })).toThrow(
      /instrumentations\.aiSdk\.models\['claude-haiku-4-5'\]/,
    );
    expect(() => sdk.instrumentation.setConfig({ guard, models: { 'anthropic:x': {} as never } })).toThrow(
      TollgateConfigError,
    );
    expect(() => tollgateMiddleware({ guard, models: [] as never })).toThrow(/tollgateMiddleware\.models/);
  });
});
