import * as bedrockModule from '@aws-sdk/client-bedrock-runtime';
import { createGuard, type Guard } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InstrumentedSdk, instrumentSdk, mockClients, uninstrumentSdk } from './test-support';

const { BedrockRuntime, ConverseCommand, ThrottlingException } = bedrockModule;
const SCOPE = '@tollgate/instrumentation-bedrock';
const MODEL = 'us.amazon.nova-micro-v1:0';

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard;
const clients = mockClients(() => mock);

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 4 });
});
afterAll(async () => {
  clients.destroyAll();
  await mock.close();
});
beforeEach(() => {
  sdk = instrumentSdk();
  guard = createGuard({ budgets: [{ id: 'day', limit: { tokens: 100 }, window: 'day' }] });
  sdk.instrumentation.setConfig({ guard });
  mock.reset();
});
afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
});

const input = (maxTokens: number) => ({
  modelId: MODEL,
  messages: [{ role: 'user' as const, content: [{ text: 'hello there' }] }],
  inferenceConfig: { maxTokens },
});

function spans() {
  return sdk.harness.spans.getFinishedSpans().filter((span) => span.instrumentationScope.name === SCOPE);
}

describe('BedrockInstrumentation', () => {
  it('gates the aggregated client and the callback form, handing the SDK output on', async () => {
    const aggregated = new BedrockRuntime({
      region: 'us-east-1',
      endpoint: mock.url,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      maxAttempts: 1,
    });
    try {
      const viaMethod = await aggregated.converse(input(4));
      expect(viaMethod.usage?.outputTokens).toBe(4);
      const viaCallback = await new Promise<unknown>((resolve, reject) =>
        aggregated.send(new ConverseCommand(input(4)), {}, (error: unknown, output: unknown) =>
          error ? reject(error) : resolve(output),
        ),
      );
      expect(viaCallback).toMatchObject({ stopReason: 'end_turn', $metadata: { httpStatusCode: 200 } });
      await expect(aggregated.converse(input(1_000))).rejects.toMatchObject({ name: 'BudgetExceededError' });
    } finally {
      aggregated.destroy();
    }
    await mock.whenIdle();
    expect(mock.requests()).toHaveLength(2);
    expect(spans().map((span) => span.attributes['tollgate.gate.decision'])).toEqual([
      'allowed',
      'allowed',
      'budget_exceeded',
    ]);
  });

  it('admits a call once across the SDK retries and counts each attempt by status', async () => {
    const client = clients.create({ maxAttempts: 2 });
    mock.inject({ status: 429, retryAfterSeconds: 1 });
    const output = await client.send(new ConverseCommand(input(4)));
    await mock.whenIdle();
    expect(output.usage?.outputTokens).toBe(4);
    expect(mock.requests().map((request) => request.status)).toEqual([429, 200]);
    const [span] = spans();
    expect(span!.attributes).toMatchObject({ 'tollgate.attempts': 2, 'tollgate.usage.source': 'provider' });
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({ reserved: 0 });
    const attempts = await sdk.harness.metricPoints('tollgate.provider.attempts');
    expect(
      attempts.map((point) => [point.attributes['http.response.status_code'], point.value]).sort(),
    ).toEqual([
      [200, 1],
      [429, 1],
    ]);
  });

  it('a throttled call that runs out of attempts rejects with the SDK error and releases its reservation', async () => {
    const client = clients.create();
    mock.inject({ status: 429, retryAfterMs: 5 });
    await expect(client.send(new ConverseCommand(input(4)))).rejects.toBeInstanceOf(ThrottlingException);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(spans()[0]!.attributes['error.type']).toBe('ThrottlingException');
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({ spent: 0, reserved: 0 });
  });

  it('a call aborted while it waits at the gate rejects as the SDK does on abort, and sends nothing', async () => {
    await guard.close();
    // One request every 2 s.
    guard = createGuard({
      rateLimits: [{ provider: 'aws.bedrock', rpm: 30, burstRequests: 1, maxWaitMillis: 8_000 }],
    });
    sdk.instrumentation.setConfig({ guard });
    const client = clients.create();
    await client.send(new ConverseCommand(input(4)));
    const controller = new AbortController();
    const aborted = client.send(new ConverseCommand(input(4)), { abortSignal: controller.signal }).then(
      () => 'sent',
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    const error = (await aborted) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AbortError');
    expect(error.message).toBe('Request aborted');
    await mock.whenIdle();
    expect(mock.requests()).toHaveLength(1);
    expect(spans().map((span) => span.attributes['tollgate.gate.decision'])).toEqual(['allowed', 'aborted']);
  });

  it('sends the model a fallback rule picks as the modelId, and records the one asked for', async () => {
    await guard.close();
    const asked = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    guard = createGuard({
      budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }],
      policies: [
        {
          id: 'cheaper',
          when: { budget: 'day', usedAbove: 0 },
          action: 'fallback',
          models: { [asked]: MODEL },
        },
      ],
    });
    sdk.instrumentation.setConfig({ guard });
    const client = clients.create();
    await client.send(new ConverseCommand({ ...input(4), modelId: asked }));
    await client.send(new ConverseCommand({ ...input(4), modelId: asked }));
    await mock.whenIdle();
    expect(mock.requests().map((request) => request.model)).toEqual([asked, MODEL]);
    expect(spans()[1]!.attributes).toMatchObject({
      'gen_ai.request.model': MODEL,
      'tollgate.fallback.from_model': asked,
      'tollgate.price.model': 'amazon.nova-micro-v1:0',
    });
  });

  it('after uninstrument() send() is the SDK’s own again and nothing is gated', async () => {
    const client = clients.create();
    sdk.instrumentation.uninstrument(bedrockModule);
    await client.send(new ConverseCommand(input(1_000)));
    expect(spans()).toHaveLength(0);
    expect(mock.requests()).toHaveLength(1);
    sdk.instrumentation.instrument(bedrockModule);
  });
});
