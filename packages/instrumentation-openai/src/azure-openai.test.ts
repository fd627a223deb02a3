import {
  createGuard,
  type DecisionEvent,
  type Guard,
  RateLimitedError,
  TollgateConfigError,
  UnknownModelPriceError,
} from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { AzureOpenAI } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAIInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, uninstrumentSdk } from './test-support';
import type { OpenAIInstrumentationConfig } from './types';

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: OpenAIInstrumentation;
let guard: Guard;
let events: DecisionEvent[];

const messages = [{ role: 'user' as const, content: 'Say hello from Azure' }];
const deployments = { 'prod-gpt4o': 'gpt-4o', 'prod-mini': 'gpt-4o-mini' };

beforeAll(async () => {
  mock = await startMockProvider({ port: 0, outputTokens: 8 });
});
afterAll(() => mock.close());

beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  mock.reset();
});
afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
  mock.configure({ rateLimit: { limitRequests: 10_000, limitTokens: 30_000_000, enforce: false } });
});

function setup(
  config: Parameters<typeof createGuard>[0],
  options: Partial<OpenAIInstrumentationConfig> = { deployments },
): void {
  events = [];
  guard = createGuard({ ...config, onDecision: (event) => void events.push(event) });
  instrumentation.setConfig({ guard, ...options });
}

function azureClient(options: ConstructorParameters<typeof AzureOpenAI>[0] = {}): AzureOpenAI {
  return new AzureOpenAI({
    endpoint: mock.url,
    apiKey: 'azure-key',
    apiVersion: '2024-10-21',
    maxRetries: 0,
    ...options,
  });
}

async function settled(): Promise<void> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('AzureOpenAI clients', () => {
  it('price a mapped deployment as its model, under provider azure.ai.openai, and settle exactly', async () => {
    setup({
      budgets: [
        { id: 'azure-day', limit: { usd: 1 }, window: 'day', match: { provider: 'azure.ai.openai' } },
      ],
    });
    const completion = await azureClient().chat.completions.create({
      model: 'prod-gpt4o',
      max_tokens: 40,
      messages,
    });
    expect(completion.choices[0]!.message.content).toBeTruthy();
    await settled();

    // The request still goes to the deployment, with the deployment name in the body.
    const [served] = mock.requests();
    expect(served).toMatchObject({
      model: 'prod-gpt4o',
      headers: expect.objectContaining({ 'api-key': 'azure-key' }),
    });
    expect((served!.body as { model: string }).model).toBe('prod-gpt4o');
    const [span] = harness.spans.getFinishedSpans();
    expect(span!.attributes).toMatchObject({
      'gen_ai.provider.name': 'azure.ai.openai',
      'gen_ai.request.model': 'gpt-4o',
      'tollgate.price.model': 'gpt-4o',
      'tollgate.gate.decision': 'allowed',
      'tollgate.usage.source': 'provider',
    });
    const [status] = await guard.budgetStatus('azure-day');
    expect(status!.reserved).toBe(0);
    expect(status!.spent).toBeCloseTo(span!.attributes['tollgate.cost.reconciled_usd'] as number, 12);
    expect(status!.spent).toBeGreaterThan(0);
  });

  it('map the deployment named in the client options, whatever the body says', async () => {
    setup({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    await azureClient({ deployment: 'prod-mini' }).chat.completions.create({
      model: 'anything',
      max_tokens: 10,
      messages,
    });
    await settled();
    expect(mock.requests()[0]!.model).toBe('prod-mini');
    expect(harness.spans.getFinishedSpans()[0]!.attributes['tollgate.price.model']).toBe('gpt-4o-mini');
  });

  it('map a deployment named in the base URL', async () => {
    setup({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    const client = new AzureOpenAI({
      baseURL: `${mock.url}/openai/deployments/prod-mini`,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      maxRetries: 0,
    });
    await client.chat.completions.create({ model: 'gpt-4o', max_tokens: 10, messages });
    await settled();
    expect(mock.requests()[0]!.model).toBe('prod-mini');
    expect(harness.spans.getFinishedSpans()[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'azure.ai.openai',
      'tollgate.price.model': 'gpt-4o-mini',
    });
  });

  it('refuse an unmapped, unpriced deployment under a USD budget before sending', async () => {
    setup({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    const call = azureClient().chat.completions.create({
      model: 'team-experiment',
      max_tokens: 10,
      messages,
    });
    const error = await call.then(
      () => undefined,
      (refusal: unknown) => refusal,
    );
    expect(error).toBeInstanceOf(UnknownModelPriceError);
    expect((error as UnknownModelPriceError).model).toBe('team-experiment');
    expect(mock.requests()).toHaveLength(0);
  });

  it('feed Azure rate-limit headers to the limiter keyed by azure.ai.openai and the mapped model', async () => {
    setup({ rateLimits: [{ provider: 'azure.ai.openai', model: 'gpt-4o', rpm: 600, maxWaitMillis: 50 }] });
    // One request a minute: after the first reply, x-ratelimit-remaining-requests is 0.
    mock.configure({ rateLimit: { limitRequests: 1, limitTokens: 1_000_000, enforce: false } });
    const client = azureClient();
    await client.chat.completions.create({ model: 'prod-gpt4o', max_tokens: 10, messages });
    await settled();

    const second = await client.chat.completions
      .create({ model: 'prod-gpt4o', max_tokens: 10, messages })
      .then(
        () => undefined,
        (refusal: unknown) => refusal,
      );
    expect(second).toBeInstanceOf(RateLimitedError);
    expect((second as RateLimitedError).retryAfterMs).toBeGreaterThan(1_000);
    expect(mock.requests()).toHaveLength(1);
    const remaining = await harness.metricPoints('tollgate.provider.ratelimit.remaining');
    expect(remaining).toContainEqual(
      expect.objectContaining({
        value: 0,
        attributes: {
          'gen_ai.provider.name': 'azure.ai.openai',
          'gen_ai.request.model': 'gpt-4o',
          'tollgate.ratelimit.kind': 'requests',
        },
      }),
    );
  });

  it('send a fallback substitute as the deployment mapped to it', async () => {
    setup({
      budgets: [{ id: 'calls', limit: { requests: 4 }, window: 'day' }],
      policies: [
        {
          id: 'cheaper',
          when: { budget: 'calls', usedAbove: 0.2 },
          action: 'fallback',
          models: { 'gpt-4o': 'gpt-4o-mini' },
        },
      ],
    });
    const client = azureClient();
    await client.chat.completions.create({ model: 'prod-gpt4o', max_tokens: 10, messages });
    await client.chat.completions.create({ model: 'prod-gpt4o', max_tokens: 10, messages });
    await settled();
    expect(mock.requests().map((request) => request.model)).toEqual(['prod-gpt4o', 'prod-mini']);
    expect(harness.spans.getFinishedSpans().at(-1)!.attributes).toMatchObject({
      'gen_ai.request.model': 'gpt-4o-mini',
      'tollgate.fallback.from_model': 'gpt-4o',
    });
  });
});

describe('the deployments option', () => {
  it('is checked when set, naming its path', () => {
    guard = createGuard();
    const bad = () => instrumentation.setConfig({ guard, deployments: { 'prod-gpt4o': '' } });
    expect(bad).toThrow(TollgateConfigError);
    expect(bad).toThrow('instrumentations.openai.deployments["prod-gpt4o"]');
    expect(() => instrumentation.setConfig({ guard, deployments: 'gpt-4o' as never })).toThrow(
      'instrumentations.openai.deployments',
    );
  });
});
