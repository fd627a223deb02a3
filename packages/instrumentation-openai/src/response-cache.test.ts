import { createGuard, type Guard, withScope } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import type * as openaiModule from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard;
let client: InstanceType<typeof openaiModule.OpenAI>;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

function setup(config: Parameters<typeof createGuard>[0]) {
  guard = createGuard(config);
  sdk.instrumentation.setConfig({ guard });
}

beforeEach(() => {
  sdk = instrumentSdk();
  setup({ cache: { rules: [{ match: { feature: 'faq' } }] } });
  mock.reset();
  mock.configure({ outputTokens: 12, chunkDelayMillis: 0, latencyMillis: 0 });
  client = mockClient(mock);
});

afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
});

const chatParams = {
  model: 'gpt-4o-mini',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'What are your opening hours?' }],
};

async function settled() {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

async function counter(name: string, attribute: string, value: string): Promise<number> {
  const points = await sdk.harness.metricPoints(name);
  return points
    .filter((point) => point.attributes[attribute] === value)
    .reduce((sum, point) => sum + (point.value as number), 0);
}

describe('response cache with the openai SDK', () => {
  it('answers a repeated chat call from the cache: nothing sent, the same result', async () => {
    const first = await withScope({ feature: 'faq' }, () => client.chat.completions.create(chatParams));
    await settled();
    expect(mock.requests()).toHaveLength(1);

    const second = await withScope({ feature: 'faq' }, () => client.chat.completions.create(chatParams));
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(second).toEqual(first);

    const spans = sdk.harness.spans.getFinishedSpans();
    expect(spans.map((span) => span.attributes['tollgate.cache.hit'])).toEqual([false, true]);
    const hit = spans[1]!;
    expect(hit.attributes['tollgate.gate.decision']).toBeUndefined();
    expect(hit.attributes['tollgate.cost.reconciled_usd']).toBe(0);
    expect(hit.attributes['tollgate.cost.saved_usd']).toBeGreaterThan(0);
    expect(hit.attributes['tollgate.cost.saved_usd']).toBe(
      spans[0]!.attributes['tollgate.cost.reconciled_usd'],
    );
    expect(await counter('tollgate.cache.requests', 'tollgate.cache.result', 'miss')).toBe(1);
    expect(await counter('tollgate.cache.requests', 'tollgate.cache.result', 'store')).toBe(1);
    expect(await counter('tollgate.cache.requests', 'tollgate.cache.result', 'hit')).toBe(1);
    expect(await counter('tollgate.cost.saved', 'tollgate.cache.result', 'hit')).toBeCloseTo(
      spans[0]!.attributes['tollgate.cost.reconciled_usd'] as number,
    );
    // The GenAI histograms describe provider operations: a hit adds nothing to them.
    const durations = await sdk.harness.metricPoints('gen_ai.client.operation.duration');
    expect(durations.reduce((sum, point) => sum + (point.value as { count: number }).count, 0)).toBe(1);
    const tokens = await sdk.harness.metricPoints('gen_ai.client.token.usage');
    expect(tokens.reduce((sum, point) => sum + (point.value as { count: number }).count, 0)).toBe(2);
  });

  it('reserves nothing and passes no rate limit on a hit', async () => {
    setup({
      cache: { rules: [{}] },
      budgets: [{ id: 'daily', limit: { requests: 1 }, window: 'day' }],
      rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 1, burstRequests: 1, maxWaitMillis: 50 }],
    });
    await client.chat.completions.create(chatParams);
    await settled();
    // The budget and the limiter are spent: only the cache can answer now.
    const again = await client.chat.completions.create(chatParams);
    expect(again.choices[0]?.message.content).toBeTruthy();
    const status = await guard.budgetStatus('daily');
    expect(status[0]?.spent).toBe(1);
    expect(status[0]?.reserved).toBe(0);
    expect(mock.requests()).toHaveLength(1);
  });

  it('gives withResponse() the stored headers on a hit', async () => {
    const first = await withScope({ feature: 'faq' }, () =>
      client.chat.completions.create(chatParams).withResponse(),
    );
    await settled();
    const second = await withScope({ feature: 'faq' }, () =>
      client.chat.completions.create(chatParams).withResponse(),
    );
    expect(mock.requests()).toHaveLength(1);
    expect(second.data).toEqual(first.data);
    expect(second.response.status).toBe(200);
    expect(second.response.headers.get('content-type')).toBe(first.response.headers.get('content-type'));
    expect(second.request_id).toBe(first.request_id);
    expect(second.response.url).toBe(first.response.url);
  });

  it('replays a stream as a stream with the same chunks, the usage chunk kept back as before', async () => {
    const params = { ...chatParams, stream: true as const };
    const read = async () => {
      const chunks: unknown[] = [];
      const stream = await withScope({ feature: 'faq' }, () => client.chat.completions.create(params));
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    };
    const first = await read();
    await settled();
    const second = await read();
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(first.length).toBeGreaterThan(1);
    expect(second).toEqual(first);
    const spans = sdk.harness.spans.getFinishedSpans();
    expect(spans[1]?.attributes['tollgate.cache.hit']).toBe(true);
    expect(spans[1]?.attributes['tollgate.cost.saved_usd']).toBeGreaterThan(0);
  });

  it('stores no stream the consumer left before its end', async () => {
    const params = { ...chatParams, stream: true as const };
    const stream = await withScope({ feature: 'faq' }, () => client.chat.completions.create(params));
    for await (const _chunk of stream) break;
    await settled();
    await withScope({ feature: 'faq' }, () => client.chat.completions.create(params)).then(async (again) => {
      for await (const _chunk of again) {
      }
    });
    await settled();
    expect(mock.requests()).toHaveLength(2);
    expect(await counter('tollgate.cache.requests', 'tollgate.cache.result', 'store')).toBe(1);
  });

  it('caches nothing by default, and nothing a call opts out of', async () => {
    await client.chat.completions.create(chatParams);
    await client.chat.completions.create(chatParams);
    await withScope({ feature: 'faq', cache: false }, () => client.chat.completions.create(chatParams));
    await withScope({ feature: 'faq', cache: false }, () => client.chat.completions.create(chatParams));
    await settled();
    expect(mock.requests()).toHaveLength(4);
    expect(
      sdk.harness.spans.getFinishedSpans().every((span) => !('tollgate.cache.hit' in span.attributes)),
    ).toBe(true);
  });

  it('caches a call that opts in through withScope, keyed by every parameter', async () => {
    const ask = (params: typeof chatParams & { temperature?: number }) =>
      withScope({ cache: { ttlMillis: 60_000 } }, () => client.chat.completions.create(params));
    await ask(chatParams);
    // Key order and the default `stream: false` do not make another request.
    await ask({
      messages: chatParams.messages,
      max_tokens: 50,
      model: 'gpt-4o-mini',
      stream: false,
    } as never);
    await ask({ ...chatParams, temperature: 0 });
    await settled();
    expect(mock.requests()).toHaveLength(2);
  });

  it('refuses to cache several sampled choices or tool offers unless allowed', async () => {
    const sampled = { ...chatParams, n: 2 };
    const tools = {
      ...chatParams,
      tools: [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } }],
    };
    for (let i = 0; i < 2; i++) {
      await withScope({ cache: true }, () => client.chat.completions.create(sampled));
      await withScope({ cache: true }, () => client.chat.completions.create(tools));
    }
    await settled();
    expect(mock.requests()).toHaveLength(4);
    for (let i = 0; i < 2; i++) {
      await withScope({ cache: { sampledChoices: true, toolCalls: true } }, () =>
        client.chat.completions.create({ ...sampled, tools: tools.tools }),
      );
    }
    await settled();
    expect(mock.requests()).toHaveLength(5);
  });

  it('stores no error reply', async () => {
    const bad = { ...chatParams, model: 'gpt-4o-mini', messages: 'not a list' } as never;
    for (let i = 0; i < 2; i++) {
      await expect(withScope({ cache: true }, () => client.chat.completions.create(bad))).rejects.toThrow();
    }
    await settled();
    expect(await counter('tollgate.cache.requests', 'tollgate.cache.result', 'store')).toBe(0);
  });

  it('answers the responses and embeddings APIs from the cache too', async () => {
    const input = { model: 'gpt-4o-mini', input: 'Opening hours?', max_output_tokens: 40 };
    const first = await withScope({ cache: true }, () => client.responses.create(input));
    await settled();
    const second = await withScope({ cache: true }, () => client.responses.create(input));
    expect(second).toEqual(first);
    const embed = { model: 'text-embedding-3-small', input: 'Opening hours?' };
    const a = await withScope({ cache: true }, () => client.embeddings.create(embed));
    await settled();
    const b = await withScope({ cache: true }, () => client.embeddings.create(embed));
    expect(b).toEqual(a);
    expect(mock.requests()).toHaveLength(2);
  });
});
