import type { CallableTool } from '@google/genai';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { BudgetExceededError, createGuard, type Guard, type GuardConfig } from '@tollgate/core';
import { type MockProvider, mockOutputText, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
  setup({ budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }] });
  mock.reset();
  mock.configure({ outputTokens: 5, reasoningTokens: 0, chunkDelayMillis: 0, latencyMillis: 0 });
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
// What the mock bills for the prompt above: systemInstruction 3+3, one user content 3+6, priming 3.
const PROMPT_TOKENS = 18;

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

async function budget() {
  return (await guard.budgetStatus('day'))[0]!;
}

describe('models.generateContentStream', () => {
  it('hands each chunk on as it arrives and settles from the last chunk’s usage', async () => {
    mock.configure({ chunkDelayMillis: 30, reasoningTokens: 2 });
    const stream = await geminiClient(mock).models.generateContentStream(request);
    const arrivals: number[] = [];
    let spansWhileStreaming = -1;
    let text = '';
    for await (const chunk of stream) {
      arrivals.push(performance.now());
      text += chunk.text ?? '';
      if (arrivals.length === 4) spansWhileStreaming = spans().length;
    }
    await settled();

    expect(text).toBe(mockOutputText(5));
    // Not buffered: chunks reach the caller spread over the stream, one chunk delay apart.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(3 * 25);
    expect(spansWhileStreaming).toBe(0);
    const billed = mock.billed();
    expect(billed.outputTokens).toBe(7);
    expect(onlySpan().attributes).toMatchObject({
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.usage.input_tokens': PROMPT_TOKENS,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.usage.reasoning.output_tokens': 2,
      'gen_ai.response.finish_reasons': ['STOP'],
      'tollgate.usage.source': 'provider',
    });
    expect(await budget()).toMatchObject({ reserved: 0, spent: PROMPT_TOKENS + 7 });
  });

  it('refuses before sending: at the call, or at the first chunk when the SDK defers its request', async () => {
    setup({ budgets: [{ id: 'tiny', limit: { tokens: 20 }, window: 'day' }] });
    // Without callable tools the SDK sends before it resolves, so the call itself rejects.
    for (const build of ['esm', 'cjs'] as const) {
      await expect(geminiClient(mock, build).models.generateContentStream(request)).rejects.toSatisfy(
        BudgetExceededError.isInstance,
      );
    }
    // With a callable tool (automatic function calling) it resolves to a generator and sends on the first read.
    const tool: CallableTool = {
      tool: async () => ({ functionDeclarations: [{ name: 'noop' }] }),
      callTool: async () => [],
    };
    const deferred = await geminiClient(mock).models.generateContentStream({
      ...request,
      config: { ...request.config, tools: [tool] },
    });
    await expect(deferred.next()).rejects.toSatisfy(BudgetExceededError.isInstance);
    expect(mock.requests()).toEqual([]);
  });

  it('returns an async generator where the SDK returns its own', async () => {
    const stream = await geminiClient(mock).models.generateContentStream({
      ...request,
      config: {
        ...request.config,
        automaticFunctionCalling: { disable: true },
        automaticContinuation: false,
      },
    });
    expect(Object.prototype.toString.call(stream)).toBe('[object AsyncGenerator]');
    let chunks = 0;
    for await (const _chunk of stream) chunks++;
    expect(chunks).toBe(5);
    await settled();
    expect(onlySpan().attributes['gen_ai.usage.output_tokens']).toBe(5);
  });

  it('charges the reserved output on break: Google keeps streaming and billing the reply', async () => {
    mock.configure({ chunkDelayMillis: 10, outputTokens: 20 });
    const stream = await geminiClient(mock).models.generateContentStream(request);
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 2) break;
    }
    await settled();

    expect(mock.requests()[0]).toMatchObject({ clientAborted: false, completed: true });
    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'tollgate.stream.interrupted': true,
      'gen_ai.usage.input_tokens': PROMPT_TOKENS,
    });
    // Input as reported by the first chunks; output at the reservation (cap 50, one candidate).
    expect(await budget()).toMatchObject({ reserved: 0, spent: PROMPT_TOKENS + 50 });
    expect(mock.billed().outputTokens).toBeLessThanOrEqual(50);
  });

  it('settles an aborted stream at the reserved output and ends its span as an error', async () => {
    mock.configure({ chunkDelayMillis: 20, outputTokens: 20 });
    const controller = new AbortController();
    const stream = await geminiClient(mock).models.generateContentStream({
      ...request,
      config: { ...request.config, abortSignal: controller.signal },
    });
    let chunks = 0;
    const reading = (async () => {
      for await (const _chunk of stream) {
        if (++chunks === 2) controller.abort();
      }
    })();
    await expect(reading).rejects.toThrow();
    await settled();

    expect(mock.requests()[0]?.clientAborted).toBe(true);
    expect(onlySpan().status.code).toBe(2);
    expect(await budget()).toMatchObject({ reserved: 0, spent: PROMPT_TOKENS + 50 });
  });

  it('gates Vertex AI streams under gcp.vertex_ai', async () => {
    const stream = await vertexClient(mock).models.generateContentStream(request);
    for await (const _chunk of stream) {
      // drained
    }
    await settled();
    expect(onlySpan().attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.vertex_ai',
      'gen_ai.usage.output_tokens': mock.billed().outputTokens,
    });
  });
});

describe('models.embedContent', () => {
  it('counts Gemini API embeddings locally (the response reports no usage)', async () => {
    setup({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    await geminiClient(mock).models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['one two three', 'four'],
      config: { outputDimensionality: 8 },
    });
    await settled();

    const span = onlySpan();
    expect(span.name).toBe('embeddings gemini-embedding-001');
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.usage.output_tokens': 0,
      'tollgate.usage.source': 'local_count',
    });
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThanOrEqual(mock.billed().inputTokens);
  });

  it('settles Vertex AI embeddings to the token counts they report', async () => {
    await vertexClient(mock).models.embedContent({
      model: 'text-embedding-005',
      contents: ['one two', 'three'],
    });
    await settled();
    expect(onlySpan().attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.vertex_ai',
      'gen_ai.usage.input_tokens': 3,
      'tollgate.usage.source': 'provider',
    });
  });

  it('refuses before sending', async () => {
    setup({ budgets: [{ id: 'none', limit: { tokens: 1 }, window: 'day' }] });
    await expect(
      geminiClient(mock, 'cjs').models.embedContent({
        model: 'gemini-embedding-001',
        contents: 'several words to embed, more than one token',
      }),
    ).rejects.toSatisfy(BudgetExceededError.isInstance);
    expect(mock.requests()).toEqual([]);
  });
});
