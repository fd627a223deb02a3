import {
  BudgetExceededError,
  createGuard,
  type DecisionEvent,
  type Guard,
  RateLimitedError,
  withScope,
} from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import * as openaiModule from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { OpenAIInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

const { OpenAI, APIPromise } = openaiModule;

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let guard: Guard;
let events: DecisionEvent[];
let instrumentation: OpenAIInstrumentation;
let client: InstanceType<typeof OpenAI>;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

function setup(config: Parameters<typeof createGuard>[0] = {}) {
  events = [];
  guard = createGuard({ ...config, onDecision: (event) => void events.push(event) });
  instrumentation.setConfig({ guard });
}

beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  setup();
  mock.reset();
  mock.configure({ outputTokens: 12, chunkDelayMillis: 0, latencyMillis: 0 });
  client = mockClient(mock);
});

afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

const chatParams = {
  model: 'gpt-4o-mini',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'Say hello to the test suite' }],
};

async function settled() {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

function onlySpan() {
  const spans = harness.spans.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

describe('OpenAIInstrumentation — chat completions', () => {
  it('gates, traces and settles a non-streamed call from provider usage', async () => {
    setup({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    const completion = await client.chat.completions.create(chatParams);
    expect(completion.choices[0]!.message.content).toBeTruthy();
    await settled();
    const span = onlySpan();
    const billed = mock.billed();
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.kind).toBe(2); // CLIENT
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.id': completion.id,
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': billed.outputTokens,
      'tollgate.gate.decision': 'allowed',
      'tollgate.usage.source': 'provider',
      'tollgate.attempts': 1,
      'server.address': '127.0.0.1',
    });
    expect(span.attributes['tollgate.cost.estimated_usd']).toBeGreaterThan(
      span.attributes['tollgate.cost.reconciled_usd'] as number,
    );
    const [status] = await guard.budgetStatus('day');
    expect(status!.reserved).toBe(0);
    expect(status!.spent).toBeCloseTo(span.attributes['tollgate.cost.reconciled_usd'] as number, 12);
  });

  it('keeps the SDK promise: instanceof APIPromise, withResponse(), asResponse(), finally()', async () => {
    const promise = client.chat.completions.create(chatParams);
    expect(promise).toBeInstanceOf(APIPromise);
    const { data, response, request_id } = await promise.withResponse();
    expect(data.object).toBe('chat.completion');
    expect(response.status).toBe(200);
    expect(request_id).toBeTruthy();
    const raw = await client.chat.completions.create(chatParams).asResponse();
    expect(raw.headers.get('content-type')).toContain('application/json');
    let finallyRan = false;
    await client.chat.completions.create(chatParams).finally(() => {
      finallyRan = true;
    });
    expect(finallyRan).toBe(true);
  });

  it('refuses a call over budget before any request reaches the provider', async () => {
    setup({ budgets: [{ id: 'tiny', limit: { usd: 0.000001 }, window: 'day' }] });
    const promise = client.chat.completions.create(chatParams);
    expect(promise).toBeInstanceOf(APIPromise);
    await expect(promise).rejects.toBeInstanceOf(BudgetExceededError);
    await settled();
    expect(mock.requests()).toHaveLength(0);
    const span = onlySpan();
    expect(span.status.code).toBe(2); // ERROR
    expect(span.attributes).toMatchObject({
      'tollgate.gate.decision': 'budget_exceeded',
      'tollgate.budget.id': 'tiny',
      'error.type': 'BudgetExceededError',
    });
    expect(span.attributes['tollgate.cost.estimated_usd']).toBeGreaterThan(0.000001);
    const decisions = await harness.metricPoints('tollgate.gate.decisions');
    expect(
      decisions.some(
        (point) => point.attributes['tollgate.gate.decision'] === 'budget_exceeded' && point.value === 1,
      ),
    ).toBe(true);
  });

  it('refuses a rate-limited call before any request reaches the provider', async () => {
    setup({
      rateLimits: [
        { provider: 'openai', model: 'gpt-4o-mini', rpm: 60, burstRequests: 1, maxWaitMillis: 50 },
      ],
    });
    await client.chat.completions.create(chatParams);
    await expect(client.chat.completions.create(chatParams)).rejects.toBeInstanceOf(RateLimitedError);
    await settled();
    expect(mock.requests()).toHaveLength(1);
  });

  it('settles a stream from provider usage it asked for, and hides the usage chunk from the caller', async () => {
    setup({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    const stream = await client.chat.completions.create({ ...chatParams, stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    await settled();
    expect(mock.requests()[0]!.body).toMatchObject({ stream_options: { include_usage: true } });
    expect(chunks.every((chunk) => chunk.choices.length > 0)).toBe(true);
    expect(chunks.every((chunk) => chunk.usage === undefined)).toBe(true);
    expect(chunks.every((chunk) => !JSON.stringify(chunk).includes('"usage"'))).toBe(true);
    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.output_tokens': mock.billed().outputTokens,
      'gen_ai.usage.input_tokens': mock.billed().inputTokens,
      'tollgate.usage.source': 'provider',
    });
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({
      reserved: 0,
      spent: mock.billed().inputTokens + mock.billed().outputTokens,
    });
  });

  it('passes the usage chunk through to a caller who asked for it', async () => {
    const stream = await client.chat.completions.create({
      ...chatParams,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)!.usage?.completion_tokens).toBe(12);
  });

  it('counts streamed tokens locally when usage is not requested, equal to what the provider billed', async () => {
    instrumentation.setConfig({ guard, includeStreamUsage: false });
    const stream = await client.chat.completions.create({ ...chatParams, stream: true });
    for await (const _chunk of stream) {
      // consume
    }
    await settled();
    const span = onlySpan();
    expect(span.attributes['tollgate.usage.source']).toBe('local_count');
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(mock.billed().outputTokens);
  });

  it('settles once for what was generated when the caller breaks off early', async () => {
    mock.configure({ outputTokens: 200, chunkDelayMillis: 2 });
    const stream = await client.chat.completions.create({ ...chatParams, max_tokens: 300, stream: true });
    let seen = 0;
    for await (const _chunk of stream) {
      if (++seen === 5) break;
    }
    await settled();
    const span = onlySpan();
    expect(span.attributes['tollgate.stream.interrupted']).toBe(true);
    expect(span.attributes['tollgate.usage.source']).toBe('local_count');
    // The client saw 5 chunks: the role chunk and 4 one-token content chunks.
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(4);
    expect(mock.requests()[0]!.clientAborted).toBe(true);
  });

  it('settles once for what arrived when the caller aborts through a signal', async () => {
    mock.configure({ outputTokens: 200, chunkDelayMillis: 3 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { ...chatParams, max_tokens: 300, stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    // The SDK ends an aborted stream quietly (or with an abort error, depending on timing).
    await (async () => {
      for await (const _chunk of stream) {
        if (++seen === 6) controller.abort();
      }
    })().catch(() => {});
    await settled();
    const span = onlySpan();
    expect(span.attributes['tollgate.stream.interrupted']).toBe(true);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThanOrEqual(5);
    expect(events.filter((event) => event.type === 'settled' || event.type === 'released')).toHaveLength(1);
  });

  it('settles the partial output when the connection drops mid-stream', async () => {
    setup({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    mock.configure({ outputTokens: 50, chunkDelayMillis: 1 });
    mock.inject({ kind: 'disconnect-mid-stream', afterChunks: 10 });
    const stream = await client.chat.completions.create({ ...chatParams, max_tokens: 100, stream: true });
    let chunks = 0;
    await expect(
      (async () => {
        for await (const _chunk of stream) chunks++;
      })(),
    ).rejects.toThrow();
    await settled();
    const span = onlySpan();
    expect(span.status.code).toBe(2);
    expect(span.attributes['tollgate.usage.source']).toBe('local_count');
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(mock.billed().outputTokens);
    expect(chunks).toBeGreaterThan(0);
    expect((await guard.budgetStatus('day'))[0]!.reserved).toBe(0);
  });

  it('charges a stream that is never read when its lease expires', async () => {
    setup({ budgets: [{ id: 'day', limit: { requests: 5 }, window: 'day' }], leaseMillis: 1_000 });
    await client.chat.completions.create({ ...chatParams, stream: true }); // never iterated
    expect((await guard.budgetStatus('day'))[0]!.reserved).toBe(1);
    await vi.waitFor(() => expect(events.some((event) => event.type === 'lease-expired')).toBe(true), {
      timeout: 3_000,
    });
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({ reserved: 0, spent: 1 });
  });

  it('keeps tee() and toReadableStream() working and settles once', async () => {
    const stream = await client.chat.completions.create({ ...chatParams, stream: true });
    const [left, right] = stream.tee();
    const read = async (branch: typeof left) => {
      let text = '';
      for await (const chunk of branch) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    };
    const [a, b] = await Promise.all([read(left), read(right)]);
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThan(0);
    const readable = (
      await client.chat.completions.create({ ...chatParams, stream: true })
    ).toReadableStream();
    const reader = readable.getReader();
    let parts = 0;
    while (!(await reader.read()).done) parts++;
    expect(parts).toBeGreaterThan(1);
    await settled();
    expect(harness.spans.getFinishedSpans()).toHaveLength(2);
    expect(events.filter((event) => event.type === 'settled')).toHaveLength(2);
  });

  it('gates every round of runTools()', async () => {
    const runner = client.chat.completions.runTools({
      ...chatParams,
      tool_choice: 'required',
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Looks a word up',
            parameters: { type: 'object', properties: {} },
            function: () => 'found',
            parse: JSON.parse,
          },
        },
      ],
    });
    await runner.finalContent();
    await settled();
    const spans = harness.spans.getFinishedSpans();
    expect(spans.length).toBe(mock.requests().length);
    expect(spans.length).toBeGreaterThanOrEqual(2);
    expect(spans.every((span) => span.attributes['tollgate.gate.decision'] === 'allowed')).toBe(true);
  });

  it('works under chat.completions.stream() and parse()', async () => {
    const runner = client.chat.completions.stream(chatParams);
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBeTruthy();
    const parsed = await client.chat.completions.parse({
      ...chatParams,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'greeting',
          schema: { type: 'object', properties: { text: { type: 'string' } } },
        },
      },
    });
    expect(parsed.choices[0]!.message.parsed).toBeTypeOf('object');
    await settled();
    expect(harness.spans.getFinishedSpans().map((span) => span.attributes['tollgate.usage.source'])).toEqual([
      'provider',
      'provider',
    ]);
  });

  it('releases the reservation when the provider fails the call', async () => {
    setup({ budgets: [{ id: 'day', limit: { requests: 10 }, window: 'day' }] });
    mock.inject({ status: 500 });
    await expect(client.chat.completions.create(chatParams)).rejects.toThrow();
    await settled();
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({ spent: 0, reserved: 0 });
    expect(onlySpan().attributes['error.type']).toBe('InternalServerError');
  });

  it('counts SDK retries on the span and backs off on retry-after', async () => {
    client = new OpenAI({ apiKey: 'test-key', baseURL: mock.openaiBaseUrl, maxRetries: 2 });
    mock.inject({ status: 429, retryAfterMs: 10, times: 1 });
    await client.chat.completions.create(chatParams);
    await settled();
    expect(mock.requests()).toHaveLength(2);
    expect(onlySpan().attributes['tollgate.attempts']).toBe(2);
  });
});

describe('OpenAIInstrumentation — cost and metrics', () => {
  it('prices cached input and reasoning output at their own rates', async () => {
    mock.configure({ outputTokens: 10, reasoningTokens: 30, cacheReadInputTokens: 4 });
    const params = {
      model: 'o4-mini',
      max_completion_tokens: 200,
      messages: [{ role: 'user' as const, content: 'one two three four five six seven eight' }],
    };
    const completion = await client.chat.completions.create(params);
    await settled();
    const usage = completion.usage!;
    expect(usage.prompt_tokens_details?.cached_tokens).toBe(4);
    expect(usage.completion_tokens_details?.reasoning_tokens).toBe(30);
    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.cache_read.input_tokens': 4,
      'gen_ai.usage.reasoning.output_tokens': 30,
      'tollgate.price.model': 'o4-mini',
    });
    // o4-mini: $1.10 input, $0.275 cached input, $4.40 output (reasoning included) per 1M tokens.
    const expected = ((usage.prompt_tokens - 4) * 1.1 + 4 * 0.275 + usage.completion_tokens * 4.4) / 1e6;
    expect(span.attributes['tollgate.cost.reconciled_usd']).toBeCloseTo(expected, 12);
  });

  it('reports budget gauges, the provider remaining capacity and the wait histogram', async () => {
    setup({ budgets: [{ id: 'per-tenant', per: ['tenant'], limit: { requests: 50 }, window: 'day' }] });
    mock.configure({ rateLimit: { limitRequests: 100, limitTokens: 100_000, enforce: false } });
    await client.chat.completions.create(chatParams);
    await settled();
    const spent = await harness.metricPoints('tollgate.budget.spent');
    expect(spent).toContainEqual(
      expect.objectContaining({
        value: 1,
        attributes: {
          'tollgate.budget.id': 'per-tenant',
          'tollgate.budget.unit': 'requests',
          'tollgate.tenant': '(none)',
        },
      }),
    );
    const limit = await harness.metricPoints('tollgate.budget.limit');
    expect(limit[0]!.value).toBe(50);
    const remaining = await harness.metricPoints('tollgate.provider.ratelimit.remaining');
    expect(remaining).toContainEqual(
      expect.objectContaining({
        value: 99,
        attributes: expect.objectContaining({ 'tollgate.ratelimit.kind': 'requests' }),
      }),
    );
    const wait = await harness.metricPoints('tollgate.gate.wait.duration');
    expect((wait[0]!.value as { count: number }).count).toBe(1);
    const duration = await harness.metricPoints('gen_ai.client.operation.duration');
    expect((duration[0]!.value as { count: number }).count).toBe(1);
  });
});

describe('OpenAIInstrumentation — metric attribution', () => {
  it('labels cost and decisions with the tenant only when budgets are split by tenant', async () => {
    setup({ budgets: [{ id: 'per-tenant', per: ['tenant'], limit: { usd: 1 }, window: 'day' }] });
    await withScope({ tenant: 'acme', user: 'u-1' }, () => client.chat.completions.create(chatParams));
    await settled();
    const cost = await harness.metricPoints('tollgate.cost');
    expect(cost.length).toBeGreaterThan(0);
    for (const point of cost) {
      expect(point.attributes['tollgate.tenant']).toBe('acme');
      expect(point.attributes['tollgate.user']).toBeUndefined();
    }
    const usage = await harness.metricPoints('gen_ai.client.token.usage');
    expect(usage.every((point) => point.attributes['tollgate.tenant'] === undefined)).toBe(true);
  });

  it('puts the endpoint on the GenAI histograms and keeps Tollgate counters to what budgets group by', async () => {
    setup({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    await client.chat.completions.create(chatParams);
    await settled();
    const [duration] = await harness.metricPoints('gen_ai.client.operation.duration');
    expect(duration!.attributes).toMatchObject({ 'server.address': '127.0.0.1' });
    for (const name of ['tollgate.cost', 'tollgate.gate.decisions', 'tollgate.gate.wait.duration']) {
      for (const point of await harness.metricPoints(name)) {
        expect(point.attributes).toMatchObject({
          'gen_ai.provider.name': 'openai',
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': chatParams.model,
        });
        expect(point.attributes['server.address']).toBeUndefined();
      }
    }
  });
});

describe('OpenAIInstrumentation — policies', () => {
  it('sends the cheaper model when a fallback rule applies, and the span says so', async () => {
    setup({
      budgets: [{ id: 'calls', limit: { requests: 4 }, window: 'day' }],
      policies: [
        {
          id: 'cheaper',
          when: { budget: 'calls', usedAbove: 0.4 },
          action: 'fallback',
          models: { 'gpt-4o': 'gpt-4o-mini' },
        },
      ],
    });
    await client.chat.completions.create({ ...chatParams, model: 'gpt-4o' });
    await client.chat.completions.create({ ...chatParams, model: 'gpt-4o' });
    const third = await client.chat.completions.create({ ...chatParams, model: 'gpt-4o' });
    await settled();
    expect(mock.requests().map((request) => request.model)).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o-mini']);
    expect(third.model).toContain('gpt-4o-mini');
    const span = harness.spans.getFinishedSpans().at(-1)!;
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.request.model': 'gpt-4o-mini',
      'tollgate.fallback.from_model': 'gpt-4o',
      'tollgate.price.model': 'gpt-4o-mini',
    });
  });

  it('opens the circuit on a 5xx burst, refuses without network traffic, then half-opens and closes', async () => {
    setup({
      circuitBreakers: [
        { provider: 'openai', model: 'gpt-4o-mini', minCalls: 3, errorRateAbove: 0.5, openMillis: 200 },
      ],
    });
    mock.inject({ status: 500, times: 3 });
    for (let i = 0; i < 3; i++) await expect(client.chat.completions.create(chatParams)).rejects.toThrow();
    expect(mock.requests()).toHaveLength(3);
    const refused = await client.chat.completions.create(chatParams).catch((error: unknown) => error);
    expect((refused as Error).name).toBe('CircuitOpenError');
    expect(mock.requests()).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 220));
    await client.chat.completions.create(chatParams); // the half-open probe succeeds
    await client.chat.completions.create(chatParams);
    await settled();
    expect(
      events.filter((event) => event.type === 'circuit-state').map((event) => (event as { to: string }).to),
    ).toEqual(['open', 'half-open', 'closed']);
    // One series for the model, its value the state: no series left behind at 1 by the open state.
    const gauge = await harness.metricPoints('tollgate.circuit.open');
    expect(gauge).toEqual([
      expect.objectContaining({
        value: 0,
        attributes: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini' },
      }),
    ]);
    expect(
      harness.spans
        .getFinishedSpans()
        .some((span) => span.attributes['tollgate.gate.decision'] === 'circuit_open'),
    ).toBe(true);
  });

  it('trips the spend-rate breaker on a retry loop that would burn money', async () => {
    setup({
      circuitBreakers: [
        { provider: 'openai', model: 'gpt-4o', spendUsdPerMinuteAbove: 0.01, windowMillis: 60_000 },
      ],
    });
    mock.configure({ outputTokens: 900 });
    let sent = 0;
    let refusal: unknown;
    // A buggy loop re-asking the same expensive question; each answer costs ~$0.009 at gpt-4o prices.
    for (let attempt = 0; attempt < 20 && refusal === undefined; attempt++) {
      try {
        await client.chat.completions.create({ ...chatParams, model: 'gpt-4o', max_tokens: 1_000 });
        sent++;
      } catch (error) {
        refusal = error;
      }
    }
    expect((refusal as Error).name).toBe('CircuitOpenError');
    expect((refusal as { reason: string }).reason).toBe('spend-rate');
    expect(sent).toBe(2);
    expect(mock.requests()).toHaveLength(2);
  });
});

describe('OpenAIInstrumentation — other endpoints', () => {
  it('gates responses.create (JSON and stream) and responses.stream()', async () => {
    const response = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'Hello there',
      max_output_tokens: 40,
    });
    expect(response.output_text).toBeTruthy();
    const stream = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'Hello there',
      stream: true,
    });
    for await (const _event of stream) {
      // consume
    }
    const helper = client.responses.stream({ model: 'gpt-4o-mini', input: 'Hello there' });
    await helper.finalResponse();
    await settled();
    const spans = harness.spans.getFinishedSpans();
    expect(spans).toHaveLength(3);
    for (const span of spans) {
      expect(span.attributes['tollgate.usage.source']).toBe('provider');
      expect(span.attributes['gen_ai.usage.output_tokens']).toBe(12);
    }
  });

  it('gates embeddings and legacy completions', async () => {
    const embedding = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['one two', 'three'],
    });
    expect(embedding.data).toHaveLength(2);
    const completion = await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Once upon',
      max_tokens: 20,
    });
    expect(completion.choices[0]!.text).toBeTruthy();
    await settled();
    const [embeddingSpan, completionSpan] = harness.spans.getFinishedSpans();
    expect(embeddingSpan!.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.usage.output_tokens': 0,
    });
    expect(completionSpan!.attributes).toMatchObject({
      'gen_ai.operation.name': 'text_completion',
      'tollgate.usage.source': 'provider',
    });
  });
});

describe('OpenAIInstrumentation — stream timing', () => {
  async function chunkTimes(): Promise<number[]> {
    const stream = await client.chat.completions.create({ ...chatParams, max_tokens: 100, stream: true });
    const times: number[] = [];
    let last = performance.now();
    for await (const _chunk of stream) {
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times;
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  it('holds no chunk back: inter-chunk gaps match the uninstrumented SDK in the same run', async () => {
    mock.configure({ outputTokens: 60, chunkDelayMillis: 4 });
    // Alternate instrumented and raw rounds and compare the quietest round of each, so machine load
    // that comes and goes does not decide the result.
    const instrumented: number[] = [];
    const raw: number[] = [];
    for (let round = 0; round < 3; round++) {
      instrumented.push(median((await chunkTimes()).slice(1)));
      instrumentation.uninstrument(openaiModule);
      raw.push(median((await chunkTimes()).slice(1)));
      instrumentation.instrument(openaiModule);
    }
    // Generous bound for a shared machine: the wrapper adds microtasks, never a timer or a buffer.
    expect(Math.min(...instrumented)).toBeLessThan(Math.min(...raw) + 2);
  });
});

describe("OpenAIInstrumentation — the client's post()", () => {
  it('gates a request posted directly, with its options as a promise, and keeps the APIPromise', async () => {
    setup({ budgets: [{ id: 'tiny', limit: { usd: 0.000001 }, window: 'day' }] });
    const refused = client.post('/chat/completions', Promise.resolve({ body: chatParams }));
    expect(refused).toBeInstanceOf(APIPromise);
    await expect(refused).rejects.toBeInstanceOf(BudgetExceededError);
    setup();
    const { data, response } = await client
      .post<{ object: string }>('/chat/completions', Promise.resolve({ body: chatParams }))
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(response.status).toBe(200);
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(harness.spans.getFinishedSpans().map((span) => span.attributes['tollgate.gate.decision'])).toEqual(
      ['budget_exceeded', 'allowed'],
    );
  });

  it("gates a call made inside another call's request (here from a custom fetch) as a call of its own", async () => {
    const inner = new OpenAI({ apiKey: 'test-key', baseURL: mock.openaiBaseUrl, maxRetries: 0 });
    let nested = false;
    const outer = new OpenAI({
      apiKey: 'test-key',
      baseURL: mock.openaiBaseUrl,
      maxRetries: 0,
      fetch: async (url, init) => {
        if (!nested) {
          nested = true;
          await inner.chat.completions.create({ ...chatParams, model: 'gpt-4o' });
        }
        return fetch(url, init);
      },
    });
    await outer.chat.completions.create(chatParams);
    await settled();
    expect(mock.requests()).toHaveLength(2);
    expect(
      harness.spans
        .getFinishedSpans()
        .map((span) => `${span.name}:${span.attributes['tollgate.gate.decision']}`)
        .sort(),
    ).toEqual(['chat gpt-4o-mini:allowed', 'chat gpt-4o:allowed']);
  });

  it('leaves requests to other paths alone', async () => {
    await client.models.list().catch(() => undefined);
    await settled();
    expect(harness.spans.getFinishedSpans()).toHaveLength(0);
  });
});

describe('OpenAIInstrumentation — patching', () => {
  it('warns with a process warning and leaves an unsupported openai major alone', () => {
    const warnings = captureWarnings();
    const fresh = new OpenAIInstrumentation({ guard });
    const [definition] = fresh.getModuleDefinitions();
    const fake = { OpenAI: class {}, APIPromise: class {} };
    (fake.OpenAI.prototype as unknown as Record<string, unknown>).post = function post() {};
    const before = (fake.OpenAI.prototype as unknown as Record<string, unknown>).post;
    definition!.patch!(fake, '4.104.0');
    expect((fake.OpenAI.prototype as unknown as Record<string, unknown>).post).toBe(before);
    expect(warnings.codes()).toContain('TOLLGATE_UNSUPPORTED_SDK_VERSION');
    expect(warnings.messages().join('\n')).toContain('openai 4.104.0 is outside the supported range');
    definition!.patch!(fake, '6.1.0');
    expect((fake.OpenAI.prototype as unknown as Record<string, unknown>).post).not.toBe(before);
    warnings.stop();
  });

  it('does not double-wrap, and unpatching restores the original post()', () => {
    const proto = OpenAI.prototype as unknown as Record<string, unknown>;
    const wrapped = proto.post;
    expect((wrapped as { __wrapped?: boolean }).__wrapped).toBe(true);
    const second = new OpenAIInstrumentation({ guard });
    second.instrument(openaiModule);
    expect(proto.post).toBe(wrapped);
    instrumentation.uninstrument(openaiModule);
    expect((proto.post as { __wrapped?: boolean }).__wrapped).toBeUndefined();
    instrumentation.instrument(openaiModule);
  });

  it('warns with a process warning when constructed without a guard, and steps aside', async () => {
    const warnings = captureWarnings();
    const unguarded = new OpenAIInstrumentation({} as never);
    expect(warnings.codes()).toContain('TOLLGATE_NO_GUARD');
    warnings.stop();
    instrumentation.uninstrument(openaiModule);
    unguarded.instrument(openaiModule);
    await client.chat.completions.create(chatParams);
    unguarded.uninstrument(openaiModule);
    instrumentation.instrument(openaiModule);
    expect(mock.requests()).toHaveLength(1);
    expect(harness.spans.getFinishedSpans()).toHaveLength(0);
  });

  it('records into a tracer and meter provider set after calls were made', async () => {
    await client.chat.completions.create(chatParams);
    const later = telemetryHarness();
    instrumentation.setTracerProvider(later.tracerProvider);
    instrumentation.setMeterProvider(later.meterProvider);
    await client.chat.completions.create(chatParams);
    await settled();
    expect(harness.spans.getFinishedSpans()).toHaveLength(1);
    expect(later.spans.getFinishedSpans()).toHaveLength(1);
    expect(later.spans.getFinishedSpans()[0]!.attributes['tollgate.gate.decision']).toBe('allowed');
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
