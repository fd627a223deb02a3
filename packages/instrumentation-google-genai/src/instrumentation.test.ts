import type { CallableTool, Part } from '@google/genai';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BudgetExceededError,
  createGuard,
  type DecisionEvent,
  type Guard,
  type GuardConfig,
} from '@tollgate/core';
import { type MockProvider, mockOutputText, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GoogleGenAIInstrumentation } from './instrumentation';
import {
  geminiClient,
  type InstrumentedSdk,
  instrumentSdk,
  uninstrumentSdk,
  vertexClient,
} from './test-support';

const TOLLGATE_SCOPE = '@tollgate/instrumentation-google-genai';

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard;
let events: DecisionEvent[];

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

function setup(config: GuardConfig = {}): void {
  events = [];
  guard = createGuard({ ...config, onDecision: (event) => void events.push(event) });
  sdk.instrumentation.setConfig({ guard });
}

beforeEach(() => {
  sdk = instrumentSdk();
  setup();
  mock.reset();
  mock.configure({
    outputTokens: 5,
    reasoningTokens: 0,
    cacheReadInputTokens: 0,
    chunkDelayMillis: 0,
    latencyMillis: 0,
    toolCalls: 'when-forced',
  });
});

afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
});

const model = 'gemini-2.5-flash';
const request = {
  model,
  contents: 'Say hello to the mock provider',
  config: { systemInstruction: 'You are terse.', maxOutputTokens: 50 },
};

async function settled(): Promise<void> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 10));
}

function spans(): ReadableSpan[] {
  return sdk.harness.spans
    .getFinishedSpans()
    .filter((span) => span.instrumentationScope.name === TOLLGATE_SCOPE);
}

function onlySpan(): ReadableSpan {
  const finished = spans();
  expect(finished).toHaveLength(1);
  return finished[0]!;
}

async function budget(id: string) {
  return (await guard.budgetStatus(id))[0]!;
}

describe('models.generateContent', () => {
  it('settles to usageMetadata: thoughts as output, cached tokens as cache reads, priced at Gemini rates', async () => {
    setup({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    mock.configure({ reasoningTokens: 4, cacheReadInputTokens: 10 });
    const response = await geminiClient(mock).models.generateContent(request);
    await settled();

    const billed = mock.billed();
    expect(response.usageMetadata).toMatchObject({ candidatesTokenCount: 5, thoughtsTokenCount: 4 });
    const span = onlySpan();
    expect(span.name).toBe(`generate_content ${model}`);
    expect(span.kind).toBe(2); // CLIENT
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.request.model': model,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.id': response.responseId,
      'gen_ai.response.finish_reasons': ['STOP'],
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': 9,
      'gen_ai.usage.reasoning.output_tokens': 4,
      'gen_ai.usage.cache_read.input_tokens': 10,
      'tollgate.gate.decision': 'allowed',
      'tollgate.usage.source': 'provider',
      'tollgate.price.model': model,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(mock.url).port),
    });
    expect(billed.outputTokens).toBe(9);
    // gemini-2.5-flash: $0.30 input, $0.03 cached input, $2.50 output (thinking included) per 1M tokens.
    const expected = ((billed.inputTokens - 10) * 0.3 + 10 * 0.03 + 9 * 2.5) / 1e6;
    expect(span.attributes['tollgate.cost.reconciled_usd']).toBeCloseTo(expected, 12);
    expect(await budget('day')).toMatchObject({ reserved: 0 });
    expect((await budget('day')).spent).toBeCloseTo(expected, 12);
  });

  it('refuses before any request is sent, with the typed error, from both builds', async () => {
    setup({ budgets: [{ id: 'tiny', limit: { tokens: 20 }, window: 'day' }] });
    for (const build of ['esm', 'cjs'] as const) {
      const error = await geminiClient(mock, build)
        .models.generateContent(request)
        .catch((caught: unknown) => caught);
      expect(BudgetExceededError.isInstance(error)).toBe(true);
    }
    expect(mock.requests()).toEqual([]);
    expect(spans().map((span) => span.attributes['tollgate.gate.decision'])).toEqual([
      'budget_exceeded',
      'budget_exceeded',
    ]);
  });

  it('reserves the cap times candidateCount, then settles to what was billed', async () => {
    setup({ budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }] });
    mock.configure({ latencyMillis: 150 });
    const pending = geminiClient(mock).models.generateContent({
      ...request,
      config: { ...request.config, maxOutputTokens: 10, candidateCount: 2 },
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    const held = await budget('day');
    expect(mock.requests()).toHaveLength(1);
    const span = await pending.then(async () => {
      await settled();
      return onlySpan();
    });
    const estimatedInput = span.attributes['tollgate.estimate.input_tokens'] as number;
    // While the request ran: the input estimate plus 10 output tokens for each of the 2 candidates.
    expect(held.reserved).toBe(estimatedInput + 20);
    expect(estimatedInput).toBeGreaterThanOrEqual(mock.billed().inputTokens);
    expect(span.attributes['gen_ai.request.choice.count']).toBe(2);
    expect(await budget('day')).toMatchObject({
      reserved: 0,
      spent: mock.billed().inputTokens + mock.billed().outputTokens,
    });
  });

  it("sends the guard's default cap in config.maxOutputTokens (generationConfig on the wire) when the call sets none", async () => {
    setup({ defaultMaxOutputTokens: 3 });
    const { maxOutputTokens: _, ...config } = request.config;
    const response = await geminiClient(mock).models.generateContent({ ...request, config });
    await settled();

    expect(mock.requests()[0]?.body).toMatchObject({ generationConfig: { maxOutputTokens: 3 } });
    expect(response.text).toBe(mockOutputText(3));
    expect(onlySpan().attributes['gen_ai.request.max_tokens']).toBe(3);
  });

  it("reserves the model's maximum output when no cap is set or sent: thinking fits inside it", async () => {
    setup({ budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }] });
    const { maxOutputTokens: _, ...config } = request.config;
    await geminiClient(mock).models.generateContent({
      ...request,
      config: { ...config, thinkingConfig: { thinkingBudget: 512 } },
    });
    await settled();
    expect(onlySpan().attributes['tollgate.estimate.max_output_tokens']).toBe(65_536);
  });

  it('gates Vertex AI calls under gcp.vertex_ai', async () => {
    await vertexClient(mock).models.generateContent(request);
    await settled();
    expect(onlySpan().attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.vertex_ai',
      'gen_ai.usage.input_tokens': mock.billed().inputTokens,
    });
    expect(mock.requests()[0]?.provider).toBe('gcp.vertex_ai');
  });

  it('releases the reservation when the provider answers with an error', async () => {
    setup({ budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }] });
    mock.inject({ status: 500 });
    await expect(geminiClient(mock).models.generateContent(request)).rejects.toMatchObject({ status: 500 });
    await settled();
    expect(onlySpan().status.code).toBe(2);
    expect(await budget('day')).toMatchObject({ reserved: 0, spent: 0 });
  });
});

describe('policies', () => {
  it('sends the cheaper model a fallback rule picks, and the span says so', async () => {
    setup({
      budgets: [{ id: 'calls', limit: { requests: 4 }, window: 'day' }],
      policies: [
        {
          id: 'cheaper',
          when: { budget: 'calls', usedAbove: 0.4 },
          action: 'fallback',
          models: { 'gemini-2.5-pro': 'gemini-2.5-flash-lite' },
        },
      ],
    });
    const ai = geminiClient(mock);
    for (let call = 0; call < 3; call++)
      await ai.models.generateContent({ ...request, model: 'models/gemini-2.5-pro' });
    await settled();

    expect(mock.requests().map((served) => served.model)).toEqual([
      'gemini-2.5-pro',
      'gemini-2.5-pro',
      'gemini-2.5-flash-lite',
    ]);
    expect(spans().at(-1)?.attributes).toMatchObject({
      'gen_ai.request.model': 'gemini-2.5-flash-lite',
      'tollgate.fallback.from_model': 'gemini-2.5-pro',
      'tollgate.price.model': 'gemini-2.5-flash-lite',
    });
  });
});

describe('provider feedback', () => {
  it("pauses the model for the wait a 429's RetryInfo asks for: the next call waits at the gate", async () => {
    setup({ rateLimits: [{ provider: 'gcp.gemini', rpm: 6_000, maxWaitMillis: 5_000 }] });
    mock.inject({ status: 429, retryAfterMs: 300 });
    const ai = geminiClient(mock);
    await expect(ai.models.generateContent(request)).rejects.toMatchObject({ status: 429 });
    await ai.models.generateContent(request);
    await settled();

    const [limited, next] = spans();
    expect(limited?.attributes).toMatchObject({ 'tollgate.attempts': 1, 'error.type': 'ApiError' });
    expect(next?.attributes['tollgate.attempts']).toBe(1);
    expect(next?.attributes['tollgate.gate.wait_ms']).toBeGreaterThanOrEqual(200);
  });
});

describe('chats and automatic function calling', () => {
  it('gates each chat turn once, as the one request it sends', async () => {
    setup({ budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }] });
    const chat = geminiClient(mock).chats.create({ model, config: { maxOutputTokens: 20 } });
    await chat.sendMessage({ message: 'one two' });
    const stream = await chat.sendMessageStream({ message: 'three' });
    for await (const _chunk of stream) {
      // drained
    }
    await settled();

    expect(mock.requests()).toHaveLength(2);
    expect(spans()).toHaveLength(2);
    const billed = mock.billed();
    expect(await budget('day')).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
  });

  it('gates every round of automatic function calling as its own request', async () => {
    mock.configure({ toolCalls: 'when-offered' });
    const weather: CallableTool = {
      tool: async () => ({
        functionDeclarations: [
          { name: 'get_weather', parametersJsonSchema: { type: 'object', properties: {} } },
        ],
      }),
      callTool: async (): Promise<Part[]> => [
        { functionResponse: { name: 'get_weather', response: { celsius: 21 } } },
      ],
    };
    const response = await geminiClient(mock).models.generateContent({
      model,
      contents: 'Weather in Paris?',
      config: { tools: [weather], maxOutputTokens: 20 },
    });
    await settled();

    expect(response.text).toBe(mockOutputText(5));
    expect(mock.requests()).toHaveLength(2);
    expect(spans()).toHaveLength(2);
    expect(spans().map((span) => span.attributes['gen_ai.usage.input_tokens'])).toEqual(
      mock.requests().map((served) => served.billed.inputTokens),
    );
  });
});

describe('GoogleGenAIInstrumentation', () => {
  it('lets calls through untouched while disabled, and gates again once enabled', async () => {
    sdk.instrumentation.disable();
    await geminiClient(mock).models.generateContent(request);
    expect(spans()).toHaveLength(0);
    sdk.instrumentation.enable();
    await geminiClient(mock).models.generateContent(request);
    await settled();
    expect(spans()).toHaveLength(1);
  });

  it('warns instead of patching an SDK without the per-request methods', () => {
    const warnings: string[] = [];
    const listener = (warning: Error & { code?: string }) => void warnings.push(String(warning.code));
    process.on('warning', listener);
    const other = new GoogleGenAIInstrumentation({ guard: createGuard(), enabled: false });
    other.instrument({ Models: class {} });
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      process.off('warning', listener);
      expect(warnings).toContain('TOLLGATE_SDK_NOT_RECOGNISED');
    });
  });
});
