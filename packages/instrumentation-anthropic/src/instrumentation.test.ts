import * as anthropicModule from '@anthropic-ai/sdk';
import { betaTool } from '@anthropic-ai/sdk/helpers/beta/json-schema';
import { context } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BudgetExceededError,
  createGuard,
  type DecisionEvent,
  type Guard,
  type GuardConfig,
  RateLimitedError,
} from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AnthropicInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';
import type { AnthropicInstrumentationConfig } from './types';

const { Anthropic, APIPromise } = anthropicModule;

const TOLLGATE_SCOPE = '@tollgate/instrumentation-anthropic';
const SDK_SCOPE = 'com.anthropic.sdk.typescript';
// Counting streamed text exactly (no Claude safety factor) makes local counts comparable with
// the mock's bill, whose output words are one token each.
const exactCounting = { anthropicSafetyFactor: 1 };

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let guard: Guard;
let events: DecisionEvent[];
let instrumentation: AnthropicInstrumentation;
let client: InstanceType<typeof Anthropic>;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

function setup(config: GuardConfig = {}, options: Omit<AnthropicInstrumentationConfig, 'guard'> = {}): void {
  events = [];
  guard = createGuard({
    estimator: exactCounting,
    ...config,
    onDecision: (event) => void events.push(event),
  });
  instrumentation.setConfig({ guard, ...options });
}

function newClient(options: ConstructorParameters<typeof Anthropic>[0] = {}) {
  return mockClient(mock, options);
}

beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  setup();
  mock.reset();
  mock.configure({
    outputTokens: 12,
    chunkDelayMillis: 0,
    latencyMillis: 0,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
    includeUsageInStream: 'auto',
  });
  // Built after the tracer provider is registered, so the SDK emits its own spans too.
  client = newClient();
});

afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

const messageParams = {
  model: 'claude-haiku-4-5',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'Say hello to the test suite in a few words please' }],
};

async function settled() {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

function spansOf(scope: string): ReadableSpan[] {
  return harness.spans.getFinishedSpans().filter((span) => span.instrumentationScope.name === scope);
}

function onlySpan(): ReadableSpan {
  const spans = spansOf(TOLLGATE_SCOPE);
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

async function budget(id: string) {
  return (await guard.budgetStatus(id))[0]!;
}

describe('AnthropicInstrumentation — messages.create', () => {
  it('settles from provider usage with cache reads and writes counted as input, priced at their rates', async () => {
    setup({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    mock.configure({ cacheReadInputTokens: 6, cacheWriteInputTokens: 4 });
    const message = await client.messages.create(messageParams);
    await settled();
    const { usage } = message;
    expect(usage.cache_read_input_tokens).toBe(6);
    expect(usage.cache_creation_input_tokens).toBe(4);
    const billed = mock.billed();
    // Anthropic's input_tokens leaves the cached tokens out; the span counts all of them.
    expect(usage.input_tokens + 6 + 4).toBe(billed.inputTokens);
    const span = onlySpan();
    expect(span.name).toBe('chat claude-haiku-4-5');
    expect(span.kind).toBe(2); // CLIENT
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'claude-haiku-4-5',
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.id': message.id,
      'gen_ai.response.model': 'claude-haiku-4-5',
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': billed.outputTokens,
      'gen_ai.usage.cache_read.input_tokens': 6,
      'gen_ai.usage.cache_creation.input_tokens': 4,
      'tollgate.gate.decision': 'allowed',
      'tollgate.usage.source': 'provider',
      'tollgate.price.model': 'claude-haiku-4-5',
      'tollgate.attempts': 1,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(mock.anthropicBaseUrl).port),
    });
    // claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 cache write, $5 output per 1M tokens.
    const expected = (usage.input_tokens * 1 + 6 * 0.1 + 4 * 1.25 + usage.output_tokens * 5) / 1e6;
    const reconciled = span.attributes['tollgate.cost.reconciled_usd'] as number;
    expect(reconciled).toBeCloseTo(expected, 12);
    expect(span.attributes['tollgate.cost.estimated_usd']).toBeGreaterThan(reconciled);
    const status = await budget('day');
    expect(status.reserved).toBe(0);
    expect(status.spent).toBeCloseTo(reconciled, 12);
  });

  it('keeps the SDK promise: instanceof APIPromise, withResponse(), asResponse(), finally()', async () => {
    const promise = client.messages.create(messageParams);
    expect(promise).toBeInstanceOf(APIPromise);
    const { data, response, request_id } = await promise.withResponse();
    expect(data.type).toBe('message');
    expect(response.status).toBe(200);
    expect(request_id).toBe(mock.requests()[0]!.id);
    const raw = await client.messages.create(messageParams).asResponse();
    expect(raw.headers.get('content-type')).toContain('application/json');
    await raw.text();
    let finallyRan = false;
    await client.messages.create(messageParams).finally(() => {
      finallyRan = true;
    });
    expect(finallyRan).toBe(true);
  });

  it('settles a stream from its cumulative message_delta, without double counting', async () => {
    setup({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    mock.configure({ cacheReadInputTokens: 3 });
    const stream = await client.messages.create({ ...messageParams, stream: true });
    expect(stream.controller).toBeInstanceOf(AbortController);
    const types: string[] = [];
    let startOutput = 0;
    let deltaOutput = 0;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'message_start') startOutput = event.message.usage.output_tokens;
      if (event.type === 'message_delta') deltaOutput = event.usage.output_tokens;
    }
    await settled();
    // The provider repeats its totals: message_start says 1, message_delta says 12 in all.
    expect(startOutput).toBe(1);
    expect(deltaOutput).toBe(12);
    expect(types.at(0)).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    const billed = mock.billed();
    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.output_tokens': billed.outputTokens,
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.cache_read.input_tokens': 3,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'tollgate.usage.source': 'provider',
    });
    expect(span.attributes['tollgate.stream.interrupted']).toBeUndefined();
    expect(await budget('day')).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
  });

  it('keeps tee() and toReadableStream() working and settles once each', async () => {
    const stream = await client.messages.create({ ...messageParams, stream: true });
    const [left, right] = stream.tee();
    const read = async (branch: typeof left) => {
      let text = '';
      for await (const event of branch) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
          text += event.delta.text;
      }
      return text;
    };
    const [a, b] = await Promise.all([read(left), read(right)]);
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThan(0);
    const readable = (await client.messages.create({ ...messageParams, stream: true })).toReadableStream();
    const reader = readable.getReader();
    let parts = 0;
    while (!(await reader.read()).done) parts++;
    expect(parts).toBeGreaterThan(1);
    await settled();
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(2);
    expect(events.filter((event) => event.type === 'settled')).toHaveLength(2);
  });

  it('settles once for what the caller saw when it breaks off early', async () => {
    setup({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    mock.configure({ outputTokens: 200, chunkDelayMillis: 2 });
    const stream = await client.messages.create({ ...messageParams, max_tokens: 300, stream: true });
    let textDeltas = 0;
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && ++textDeltas === 5) break;
    }
    await settled();
    const span = onlySpan();
    const request = mock.requests()[0]!;
    expect(request.clientAborted).toBe(true);
    expect(span.attributes).toMatchObject({
      'tollgate.stream.interrupted': true,
      'tollgate.usage.source': 'local_count',
      // Five one-token words reached the caller; message_start had reported only one.
      'gen_ai.usage.output_tokens': 5,
      // Input is still the provider's own figure, from message_start.
      'gen_ai.usage.input_tokens': request.billed.inputTokens,
    });
    expect((await budget('day')).reserved).toBe(0);
  });

  it('treats a stream the caller aborted as interrupted, though it ends without an error', async () => {
    mock.configure({ outputTokens: 200, chunkDelayMillis: 2 });
    const stream = await client.messages.create({ ...messageParams, max_tokens: 300, stream: true });
    let textDeltas = 0;
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && ++textDeltas === 3) stream.controller.abort();
    }
    await settled();
    expect(mock.requests()[0]!.clientAborted).toBe(true);
    expect(onlySpan().attributes).toMatchObject({
      'tollgate.stream.interrupted': true,
      'tollgate.usage.source': 'local_count',
      'gen_ai.usage.output_tokens': textDeltas,
    });
  });

  it('settles a stream the connection dropped mid-way for what arrived, and reports the error', async () => {
    mock.inject({ kind: 'disconnect-mid-stream', afterChunks: 8 });
    mock.configure({ chunkDelayMillis: 1 });
    const stream = await client.messages.create({ ...messageParams, stream: true });
    let textDeltas = 0;
    await expect(
      (async () => {
        for await (const event of stream) {
          if (event.type === 'content_block_delta') textDeltas++;
        }
      })(),
    ).rejects.toThrow();
    await settled();
    const span = onlySpan();
    expect(textDeltas).toBeGreaterThan(0);
    expect(span.status.code).toBe(2); // ERROR
    expect(span.attributes).toMatchObject({
      'tollgate.stream.interrupted': true,
      'tollgate.usage.source': 'local_count',
      'gen_ai.usage.output_tokens': Math.max(textDeltas, 1),
    });
  });

  it('counts output locally when the provider leaves usage out', async () => {
    mock.inject({ kind: 'malformed-usage', times: 2 });
    await client.messages.create(messageParams);
    const stream = await client.messages.create({ ...messageParams, stream: true });
    for await (const _event of stream) {
      // consume
    }
    await settled();
    const spans = spansOf(TOLLGATE_SCOPE);
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.attributes['tollgate.usage.source']).toBe('local_count');
      expect(span.attributes['gen_ai.usage.output_tokens']).toBe(12);
      expect(span.attributes['gen_ai.usage.input_tokens']).toBe(
        span.attributes['tollgate.estimate.input_tokens'],
      );
    }
  });
});

describe('AnthropicInstrumentation — helpers and other surfaces', () => {
  it('works under messages.stream(): events, finalMessage() and one settled call', async () => {
    const runner = client.messages.stream(messageParams);
    let text = '';
    runner.on('text', (delta) => {
      text += delta;
    });
    const final = await runner.finalMessage();
    await settled();
    expect(text).toBe((final.content[0] as { text: string }).text);
    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': final.id,
      'gen_ai.usage.output_tokens': final.usage.output_tokens,
      'tollgate.usage.source': 'provider',
    });
    expect(mock.requests()[0]!.stream).toBe(true);
  });

  it('works under parse() and beta.messages.parse()', async () => {
    const parsed = await client.messages.parse({
      ...messageParams,
      output_config: {
        format: {
          type: 'json_schema',
          schema: {
            type: 'object',
            properties: { text: { type: 'string' } },
            required: ['text'],
            additionalProperties: false,
          },
        },
      },
    });
    expect(parsed.parsed_output).toEqual({ text: 'hello' });
    const betaParsed = await client.beta.messages.parse({
      ...messageParams,
      output_format: {
        type: 'json_schema',
        schema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
      },
    });
    expect(betaParsed.parsed_output).toEqual({ n: 0 });
    await settled();
    expect(spansOf(TOLLGATE_SCOPE).map((span) => span.attributes['tollgate.usage.source'])).toEqual([
      'provider',
      'provider',
    ]);
  });

  it('gates beta.messages.create and beta.messages.stream()', async () => {
    setup({ budgets: [{ id: 'day', limit: { requests: 10 }, window: 'day' }] });
    const message = await client.beta.messages.create({ ...messageParams, betas: ['context-1m-2025-08-07'] });
    expect(message.type).toBe('message');
    const final = await client.beta.messages.stream(messageParams).finalMessage();
    expect(final.usage.output_tokens).toBe(12);
    await settled();
    const spans = spansOf(TOLLGATE_SCOPE);
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'tollgate.usage.source': 'provider',
        'gen_ai.usage.output_tokens': 12,
      });
    }
    expect(mock.requests().map((request) => request.headers['anthropic-beta'])).toEqual([
      'context-1m-2025-08-07',
      undefined,
    ]);
    expect((await budget('day')).spent).toBe(2);
  });

  it('gates every turn of beta.messages.toolRunner()', async () => {
    const lookup = betaTool({
      name: 'lookup',
      description: 'Looks a word up',
      inputSchema: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
      run: (input) => `found ${(input as { word: string }).word}`,
    });
    const final = await client.beta.messages.toolRunner({
      ...messageParams,
      tools: [lookup],
      tool_choice: { type: 'any' },
    });
    expect(final.stop_reason).toBe('end_turn');
    await settled();
    // One turn asks for the tool, the next answers with its result.
    expect(mock.requests()).toHaveLength(2);
    expect(spansOf(TOLLGATE_SCOPE).map((span) => span.attributes['gen_ai.response.finish_reasons'])).toEqual([
      ['tool_use'],
      ['end_turn'],
    ]);
  });

  it('does not gate countTokens', async () => {
    setup({ budgets: [{ id: 'none-left', limit: { usd: 0.000001 }, window: 'day' }] });
    const counted = await client.messages.countTokens({
      model: messageParams.model,
      messages: messageParams.messages,
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    await client.beta.messages.countTokens({ model: messageParams.model, messages: messageParams.messages });
    await settled();
    expect(mock.requests()).toHaveLength(2);
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(0);
    expect(events).toHaveLength(0);
  });
});

describe('AnthropicInstrumentation — refusals and failures', () => {
  it('refuses a call over budget before any request reaches the provider', async () => {
    setup({ budgets: [{ id: 'tiny', limit: { usd: 0.000001 }, window: 'day' }] });
    const promise = client.messages.create(messageParams);
    expect(promise).toBeInstanceOf(APIPromise);
    await expect(promise).rejects.toBeInstanceOf(BudgetExceededError);
    // The stream helper wraps every error that is not the SDK's own; the refusal is its cause.
    const helperError = await client.messages
      .stream(messageParams)
      .finalMessage()
      .catch((error: unknown) => error);
    expect(helperError).toBeInstanceOf(anthropicModule.AnthropicError);
    expect((helperError as Error).cause).toBeInstanceOf(BudgetExceededError);
    await settled();
    expect(mock.requests()).toHaveLength(0);
    const [span] = spansOf(TOLLGATE_SCOPE);
    expect(span!.status.code).toBe(2); // ERROR
    expect(span!.attributes).toMatchObject({
      'tollgate.gate.decision': 'budget_exceeded',
      'tollgate.budget.id': 'tiny',
      'error.type': 'BudgetExceededError',
    });
    const decisions = await harness.metricPoints('tollgate.gate.decisions');
    expect(decisions).toContainEqual(
      expect.objectContaining({
        value: 2,
        attributes: expect.objectContaining({
          'gen_ai.provider.name': 'anthropic',
          'tollgate.gate.decision': 'budget_exceeded',
        }),
      }),
    );
  });

  it('refuses a rate-limited call before any request reaches the provider', async () => {
    // The call weighs its input estimate plus max_tokens: more than this bucket can ever hold.
    setup({ rateLimits: [{ provider: 'anthropic', model: 'claude-haiku-4-5', tpm: 40 }] });
    await expect(client.messages.create(messageParams)).rejects.toBeInstanceOf(RateLimitedError);
    await settled();
    expect(mock.requests()).toHaveLength(0);
    expect(onlySpan().attributes['tollgate.gate.decision']).toBe('rate_limited');

    setup({
      rateLimits: [
        { provider: 'anthropic', model: 'claude-haiku-4-5', rpm: 60, burstRequests: 1, maxWaitMillis: 50 },
      ],
    });
    await client.messages.create(messageParams);
    await expect(client.messages.create(messageParams)).rejects.toBeInstanceOf(RateLimitedError);
    await settled();
    expect(mock.requests()).toHaveLength(1);
  });

  it.each([
    [500, 'InternalServerError'],
    [529, 'OverloadedError'],
  ])('releases the reservation when the provider answers %i', async (status, errorType) => {
    setup({ budgets: [{ id: 'day', limit: { requests: 10 }, window: 'day' }] });
    mock.inject({ status: status as 500 | 529 });
    await expect(client.messages.create(messageParams)).rejects.toThrow();
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(await budget('day')).toMatchObject({ spent: 0, reserved: 0 });
    expect(onlySpan().attributes['error.type']).toBe(errorType);
  });

  it('counts SDK retries on the span and feeds the rate-limit headers back', async () => {
    client = newClient({ maxRetries: 2 });
    mock.configure({ rateLimit: { limitRequests: 100, limitTokens: 100_000, enforce: false } });
    mock.inject({ status: 429, retryAfterMs: 10, times: 1 });
    await client.messages.create(messageParams);
    await settled();
    expect(mock.requests()).toHaveLength(2);
    expect(onlySpan().attributes['tollgate.attempts']).toBe(2);
    const attempts = await harness.metricPoints('tollgate.provider.attempts');
    expect(
      attempts.map((point) => [point.attributes['http.response.status_code'], point.value]).sort(),
    ).toEqual([
      [200, 1],
      [429, 1],
    ]);
    const remaining = await harness.metricPoints('tollgate.provider.ratelimit.remaining');
    expect(remaining).toContainEqual(
      expect.objectContaining({
        attributes: expect.objectContaining({
          'gen_ai.provider.name': 'anthropic',
          'tollgate.ratelimit.kind': 'requests',
        }),
      }),
    );
  });
});

describe('AnthropicInstrumentation — the SDK’s own spans', () => {
  function expectNested(sdkSpan: ReadableSpan, tollgateSpan: ReadableSpan) {
    expect(sdkSpan.spanContext().traceId).toBe(tollgateSpan.spanContext().traceId);
    expect(sdkSpan.parentSpanContext?.spanId).toBe(tollgateSpan.spanContext().spanId);
  }

  it("nests the SDK span under the Tollgate span with sdkSpans: 'nest', for create() and for the stream helpers", async () => {
    setup({}, { sdkSpans: 'nest' });
    await client.messages.create(messageParams);
    const stream = await client.messages.create({ ...messageParams, stream: true });
    for await (const _event of stream) {
      // consume
    }
    await client.messages.stream(messageParams).finalMessage();
    await client.beta.messages.stream(messageParams).finalMessage();
    await settled();
    const ours = spansOf(TOLLGATE_SCOPE);
    const theirs = spansOf(SDK_SCOPE);
    expect(ours).toHaveLength(4);
    expect(theirs).toHaveLength(4);
    for (const sdkSpan of theirs) {
      const parent = ours.find((span) => span.spanContext().spanId === sdkSpan.parentSpanContext?.spanId);
      expect(parent, `parent of ${sdkSpan.name}`).toBeDefined();
      expectNested(sdkSpan, parent!);
      // The SDK's span still records the call as the SDK sees it.
      expect(sdkSpan.attributes['gen_ai.usage.output_tokens']).toBe(12);
    }
    expect(new Set(theirs.map((span) => span.parentSpanContext?.spanId)).size).toBe(4);
  });

  it('keeps the SDK span for a call the gate does not touch', async () => {
    setup({ budgets: [{ id: 'tiny', limit: { usd: 0.000001 }, window: 'day' }] });
    await client.messages.countTokens({ model: messageParams.model, messages: messageParams.messages });
    await expect(client.messages.create(messageParams)).rejects.toBeInstanceOf(BudgetExceededError);
    await settled();
    // countTokens keeps its own span; a refused call never reaches the SDK, so it has none.
    expect(spansOf(SDK_SCOPE).map((span) => span.name)).toHaveLength(1);
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(1);
  });

  it.each([
    ['by default', {}],
    ["with sdkSpans: 'suppress'", { sdkSpans: 'suppress' as const }],
  ])(
    'emits no SDK span for gated calls %s, so token usage is on one span per call',
    async (_label, options) => {
      setup({}, options);
      await client.messages.create(messageParams);
      const stream = await client.messages.create({ ...messageParams, stream: true });
      for await (const _event of stream) {
        // consume
      }
      await client.messages.stream(messageParams).finalMessage();
      await client.beta.messages.create(messageParams);
      await settled();
      expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(4);
      expect(spansOf(SDK_SCOPE)).toHaveLength(0);
      // The client is left as it was: its next ungated call is traced by the SDK again.
      await client.messages.countTokens({ model: messageParams.model, messages: messageParams.messages });
      expect(spansOf(SDK_SCOPE)).toHaveLength(1);
    },
  );

  it('works with a client whose own spans are off', async () => {
    client = newClient({ openTelemetry: false });
    await client.messages.create(messageParams);
    await client.messages.stream(messageParams).finalMessage();
    await settled();
    expect(spansOf(SDK_SCOPE)).toHaveLength(0);
    expect(spansOf(TOLLGATE_SCOPE).map((span) => span.attributes['tollgate.usage.source'])).toEqual([
      'provider',
      'provider',
    ]);
  });
});

describe("AnthropicInstrumentation — the client's post()", () => {
  it('gates a Messages request posted directly, with its options as a promise, and keeps the APIPromise', async () => {
    setup({ budgets: [{ id: 'tiny', limit: { usd: 0.000001 }, window: 'day' }] });
    const refused = client.post('/v1/messages', Promise.resolve({ body: messageParams }));
    expect(refused).toBeInstanceOf(APIPromise);
    await expect(refused).rejects.toBeInstanceOf(BudgetExceededError);
    setup();
    const { data, response } = await client
      .post<{ type: string }>('/v1/messages', Promise.resolve({ body: messageParams }))
      .withResponse();
    expect(data.type).toBe('message');
    expect(response.status).toBe(200);
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(spansOf(TOLLGATE_SCOPE).map((span) => span.attributes['tollgate.gate.decision'])).toEqual([
      'budget_exceeded',
      'allowed',
    ]);
  });

  it('gates a call made through create() once, not again at post(), also without a context manager', async () => {
    context.disable();
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    await client.messages.create(messageParams);
    warning.mockRestore();
    await settled();
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(1);
    expect(events.filter((event) => event.type === 'allowed')).toHaveLength(1);
  });

  it('gates a call made through create() once, not again at post()', async () => {
    await client.messages.create(messageParams);
    await client.beta.messages.create(messageParams);
    await settled();
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(2);
    expect(events.filter((event) => event.type === 'allowed')).toHaveLength(2);
  });
});

describe('AnthropicInstrumentation — patching', () => {
  it('warns with a process warning and leaves an unsupported @anthropic-ai/sdk version alone', () => {
    const warnings = captureWarnings();
    const fresh = new AnthropicInstrumentation({ guard });
    const [definition] = fresh.getModuleDefinitions();
    const fake = () => ({
      Anthropic: { prototype: { post() {} }, Messages: { prototype: { create() {} } } },
      APIPromise: class {},
    });
    for (const version of ['0.41.0', '2.0.0']) {
      const module = fake();
      const before = module.Anthropic.Messages.prototype.create;
      definition!.patch!(module, version);
      expect(module.Anthropic.Messages.prototype.create, version).toBe(before);
      expect(warnings.messages().join('\n')).toContain(
        `@anthropic-ai/sdk ${version} is outside the supported range`,
      );
    }
    expect(warnings.codes()).toContain('TOLLGATE_UNSUPPORTED_SDK_VERSION');
    warnings.stop();
    for (const version of ['0.50.4', '1.12.0']) {
      const module = fake();
      const before = module.Anthropic.Messages.prototype.create;
      definition!.patch!(module, version);
      expect(module.Anthropic.Messages.prototype.create, version).not.toBe(before);
    }
  });

  it('does not double-wrap, and unpatching restores the original methods', async () => {
    const hosts = [
      Anthropic.Messages.prototype,
      Anthropic.Beta.Messages.prototype,
      Object.getPrototypeOf(Anthropic.prototype),
    ] as unknown as Record<string, { __wrapped?: boolean }>[];
    const methods = (host: Record<string, unknown>) => [
      host.create,
      host.stream,
      host.post,
      host.fetchWithTimeout,
    ];
    const wrapped = hosts.map(methods);
    expect(hosts[2]!.post!.__wrapped).toBe(true);
    const second = new AnthropicInstrumentation({ guard });
    second.instrument(anthropicModule);
    expect(hosts.map(methods)).toEqual(wrapped);
    instrumentation.uninstrument(anthropicModule);
    for (const host of hosts) {
      for (const method of ['create', 'stream', 'post', 'fetchWithTimeout']) {
        if (host[method]) expect(host[method]!.__wrapped, method).toBeUndefined();
      }
    }
    await client.messages.create(messageParams);
    await settled();
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(0);
    expect(mock.requests()).toHaveLength(1);
    instrumentation.instrument(anthropicModule);
  });

  it('refuses an invalid option when it is set, naming its path, instead of failing calls later', async () => {
    expect(() => instrumentation.setConfig({ guard, sdkSpans: 'off' as never })).toThrow(
      expect.objectContaining({ name: 'TollgateConfigError', field: 'instrumentations.anthropic.sdkSpans' }),
    );
    expect(() => new AnthropicInstrumentation({ guard, sdkSpans: 'off' as never })).toThrow(
      /instrumentations\.anthropic\.sdkSpans: must be one of 'nest', 'suppress'/,
    );
    // The config in place is kept, its defaults filled in.
    expect(instrumentation.getConfig()).toMatchObject({ sdkSpans: 'suppress' });
    const stream = await client.messages.create({ ...messageParams, stream: true });
    for await (const event of stream) if (event.type === 'content_block_delta') break;
    await settled();
    expect(onlySpan().attributes['tollgate.usage.source']).toBe('local_count');
  });

  it('steps aside when disabled', async () => {
    instrumentation.disable();
    await client.messages.create(messageParams);
    await client.messages.stream(messageParams).finalMessage();
    await settled();
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(0);
    expect(spansOf(SDK_SCOPE)).toHaveLength(2);
    instrumentation.enable();
  });

  it('warns with a process warning when constructed without a guard, and steps aside', async () => {
    const warnings = captureWarnings();
    const unguarded = new AnthropicInstrumentation({} as never);
    expect(warnings.codes()).toContain('TOLLGATE_NO_GUARD');
    warnings.stop();
    instrumentation.uninstrument(anthropicModule);
    unguarded.instrument(anthropicModule);
    await client.messages.create(messageParams);
    unguarded.uninstrument(anthropicModule);
    instrumentation.instrument(anthropicModule);
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(0);
  });

  it('records into a tracer and meter provider set after calls were made', async () => {
    await client.messages.create(messageParams);
    const later = telemetryHarness();
    instrumentation.setTracerProvider(later.tracerProvider);
    instrumentation.setMeterProvider(later.meterProvider);
    await client.messages.create(messageParams);
    await settled();
    expect(spansOf(TOLLGATE_SCOPE)).toHaveLength(1);
    const moved = later.spans
      .getFinishedSpans()
      .filter((span) => span.instrumentationScope.name === TOLLGATE_SCOPE);
    expect(moved).toHaveLength(1);
    expect(moved[0]!.attributes['tollgate.gate.decision']).toBe('allowed');
    expect((await later.metricPoints('tollgate.gate.decisions')).length).toBeGreaterThan(0);
    await later.shutdown();
  });
});

/** Collects the process warnings emitted from now on, with their codes. */
function captureWarnings() {
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  const calls = () => spy.mock.calls as unknown as Array<[string, { code?: string } | undefined]>;
  return {
    codes: () => calls().map(([, options]) => options?.code),
    messages: () => calls().map(([message]) => String(message)),
    stop: () => spy.mockRestore(),
  };
}
