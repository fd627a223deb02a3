import { BudgetExceededError, createGuard, type Guard, type GuardConfig } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import {
  embed,
  embedMany,
  generateObject,
  generateText,
  NoOutputGeneratedError,
  stepCountIs,
  streamText,
  tool,
} from 'ai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
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
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

function setup(config: GuardConfig = {}): void {
  guard = createGuard(config);
  sdk.instrumentation.setConfig({ guard });
}

beforeEach(() => {
  sdk = instrumentSdk();
  setup();
  mock.reset();
  mock.configure({ outputTokens: 5, chunkDelayMillis: 0, latencyMillis: 0, toolCalls: 'when-forced' });
});

afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
});

async function budget(id: string) {
  return (await guard.budgetStatus(id))[0]!;
}

const TOKEN_BUDGET: GuardConfig = {
  budgets: [{ id: 'tokens', limit: { tokens: 1_000_000 }, window: 'day' }],
};

const models = [
  {
    name: 'openai responses',
    build: 'esm',
    model: (m: ReturnType<typeof mockProviders>) => m.openai('gpt-4o-mini'),
    provider: 'openai',
    endpoint: 'responses',
  },
  {
    name: 'openai chat (CommonJS copy)',
    build: 'cjs',
    model: (m: ReturnType<typeof mockProviders>) => m.openai.chat('gpt-4o-mini'),
    provider: 'openai',
    endpoint: 'chat.completions',
  },
  {
    name: 'anthropic messages',
    build: 'esm',
    model: (m: ReturnType<typeof mockProviders>) => m.anthropic('claude-haiku-4-5'),
    provider: 'anthropic',
    endpoint: 'messages',
  },
  {
    name: 'google generative-ai (CommonJS copy)',
    build: 'cjs',
    model: (m: ReturnType<typeof mockProviders>) => m.google('gemini-2.5-flash'),
    provider: 'gcp.gemini',
    endpoint: 'generate_content',
  },
] as const;

describe.each(models)('$name', ({ build, model, provider, endpoint }) => {
  const modelOf = () => model(mockProviders(mock, build));

  it('generateText is gated and settles exactly to the usage the provider billed', async () => {
    setup(TOKEN_BUDGET);
    const result = await generateText({
      model: modelOf(),
      prompt: 'Say hello to the mock provider',
      maxOutputTokens: 50,
    });
    await settled(mock);

    expect(result.text).toBe('Hello world this is a');
    const [request] = mock.requests();
    expect(request).toMatchObject({ provider, endpoint, status: 200 });
    const billed = mock.billed();
    expect(await budget('tokens')).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
    const [span] = tollgateSpans(sdk);
    expect(tollgateSpans(sdk)).toHaveLength(1);
    expect(span!.attributes).toMatchObject({
      'gen_ai.provider.name': provider,
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.max_tokens': 50,
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': 5,
      'tollgate.gate.decision': 'allowed',
      'tollgate.usage.source': 'provider',
    });
  });

  it('streamText settles from the finish part', async () => {
    setup(TOKEN_BUDGET);
    const result = streamText({
      model: modelOf(),
      prompt: 'Say hello to the mock provider',
      maxOutputTokens: 50,
    });
    expect(await result.text).toBe('Hello world this is a');
    await settled(mock);

    const billed = mock.billed();
    expect(billed.outputTokens).toBe(5);
    expect(await budget('tokens')).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
    expect(tollgateSpans(sdk)).toHaveLength(1);
    expect(tollgateSpans(sdk)[0]!.attributes).toMatchObject({
      'gen_ai.usage.output_tokens': 5,
      'tollgate.usage.source': 'provider',
    });
  });

  it('generateObject is gated like any call', async () => {
    setup(TOKEN_BUDGET);
    const { object } = await generateObject({
      model: modelOf(),
      prompt: 'Name a city',
      schema: z.object({ city: z.string(), population: z.number() }),
      maxOutputTokens: 200,
    });
    await settled(mock);

    expect(object).toEqual({ city: 'hello', population: 0 });
    const billed = mock.billed();
    expect(mock.requests()).toHaveLength(1);
    expect(await budget('tokens')).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
  });

  it('gates every step of a multi-step tool loop', async () => {
    setup(TOKEN_BUDGET);
    mock.configure({ toolCalls: 'when-offered' });
    const calls: string[] = [];
    const result = await generateText({
      model: modelOf(),
      prompt: 'What is the weather in Paris?',
      maxOutputTokens: 100,
      stopWhen: stepCountIs(5),
      tools: {
        weather: tool({
          description: 'Current weather of a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            calls.push(city);
            return { city, celsius: 21 };
          },
        }),
      },
    });
    await settled(mock);

    expect(calls).toEqual(['hello']);
    expect(result.steps).toHaveLength(2);
    expect(mock.requests()).toHaveLength(2);
    expect(tollgateSpans(sdk)).toHaveLength(2);
    const billed = mock.billed();
    expect(await budget('tokens')).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
  });

  it('refuses an over-budget call before sending anything: generateText rejects with the typed error', async () => {
    // No maxOutputTokens: the model's maximum output is reserved, far above this budget.
    setup({ budgets: [{ id: 'tiny', limit: { usd: 0.0001 }, window: 'day' }] });
    const refusal = await generateText({ model: modelOf(), prompt: 'Say hello' }).catch(
      (error: unknown) => error,
    );
    await settled(mock);

    expect(BudgetExceededError.isInstance(refusal)).toBe(true);
    expect(mock.requests()).toHaveLength(0);
    expect(tollgateSpans(sdk)[0]!.attributes['tollgate.gate.decision']).toBe('budget_exceeded');
  });

  it('streamText reports a refusal through onError; its text rejects with NoOutputGeneratedError', async () => {
    setup({ budgets: [{ id: 'tiny', limit: { usd: 0.0001 }, window: 'day' }] });
    const errors: unknown[] = [];
    const result = streamText({
      model: modelOf(),
      prompt: 'Say hello',
      onError: ({ error }) => void errors.push(error),
    });
    const text = await Promise.resolve(result.text).catch((error: unknown) => error);
    await settled(mock);

    expect(NoOutputGeneratedError.isInstance(text)).toBe(true);
    expect(errors).toHaveLength(1);
    expect(BudgetExceededError.isInstance(errors[0])).toBe(true);
    expect(mock.requests()).toHaveLength(0);
  });
});

describe('output cap', () => {
  it.each([
    [
      'openai responses',
      (m: ReturnType<typeof mockProviders>) => m.openai('gpt-4o-mini'),
      'max_output_tokens',
    ],
    ['anthropic', (m: ReturnType<typeof mockProviders>) => m.anthropic('claude-haiku-4-5'), 'max_tokens'],
  ] as const)(
    '%s: with defaultMaxOutputTokens, a call without maxOutputTokens is sent that cap',
    async (_, model, field) => {
      setup({ ...TOKEN_BUDGET, defaultMaxOutputTokens: 64 });
      await generateText({ model: model(mockProviders(mock)), prompt: 'Say hello' });
      await settled(mock);

      expect(tollgateSpans(sdk)[0]!.attributes).toMatchObject({ 'gen_ai.request.max_tokens': 64 });
      expect(mock.requests()[0]!.body).toMatchObject({ [field]: 64 });
    },
  );

  it('an Anthropic thinking budget counts in the cap: @ai-sdk/anthropic sends maxOutputTokens plus the budget', async () => {
    setup(TOKEN_BUDGET);
    await generateText({
      model: mockProviders(mock).anthropic('claude-haiku-4-5'),
      prompt: 'Say hello',
      maxOutputTokens: 100,
      providerOptions: { anthropic: { thinking: { type: 'enabled', budgetTokens: 1024 } } },
    });
    await settled(mock);

    expect(mock.requests()[0]!.body).toMatchObject({ max_tokens: 1124 });
    expect(tollgateSpans(sdk)[0]!.attributes).toMatchObject({ 'gen_ai.request.max_tokens': 1124 });
  });
});

describe('aborted streams', () => {
  it('an abort mid-stream ends the call once and leaves nothing reserved', async () => {
    setup(TOKEN_BUDGET);
    mock.configure({ outputTokens: 200, chunkDelayMillis: 5 });
    const controller = new AbortController();
    const result = streamText({
      model: mockProviders(mock).anthropic('claude-haiku-4-5'),
      prompt: 'Say hello',
      maxOutputTokens: 300,
      abortSignal: controller.signal,
      onError: () => {},
    });
    let parts = 0;
    for await (const _ of result.textStream) {
      if (++parts === 3) controller.abort();
    }
    await settled(mock);

    expect(mock.requests()[0]).toMatchObject({ clientAborted: true });
    expect(tollgateSpans(sdk)).toHaveLength(1);
    const status = await budget('tokens');
    expect(status.reserved).toBe(0);
    // The output is charged at its reserved worst case: the provider may have generated it all.
    expect(status.spent).toBeGreaterThanOrEqual(300);
  });
});

describe('embeddings', () => {
  it('embed settles from the usage the provider reports', async () => {
    setup(TOKEN_BUDGET);
    const { embedding } = await embed({
      model: mockProviders(mock).openai.embedding('text-embedding-3-small'),
      value: 'three little words',
    });
    await settled(mock);

    expect(embedding.length).toBe(1536);
    expect(await budget('tokens')).toMatchObject({ reserved: 0, spent: 3 });
    expect(tollgateSpans(sdk)[0]!.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.usage.input_tokens': 3,
    });
  });

  it('embedMany through Gemini, which reports no usage, settles to the pre-call count', async () => {
    setup(TOKEN_BUDGET);
    const { embeddings } = await embedMany({
      model: mockProviders(mock, 'cjs').google.embedding('gemini-embedding-001'),
      values: ['one two', 'three four five'],
    });
    await settled(mock);

    expect(embeddings).toHaveLength(2);
    const span = tollgateSpans(sdk)[0]!;
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.operation.name': 'embeddings',
      'tollgate.usage.source': 'local_count',
    });
    const status = await budget('tokens');
    expect(status).toMatchObject({ reserved: 0, spent: span.attributes['tollgate.estimate.input_tokens'] });
    // The local count bounds what Gemini bills: the mock bills a token a word.
    expect(status.spent).toBeGreaterThanOrEqual(mock.billed().inputTokens);
  });
});
