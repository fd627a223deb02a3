import {
  BudgetExceededError,
  createGuard,
  type Guard,
  RateLimitedError,
  UnknownModelPriceError,
} from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAIInstrumentation } from './instrumentation';
import { type PathPrefixProxy, startPathPrefixProxy } from './path-prefix-proxy';
import { type InstrumentedSdk, instrumentSdk, uninstrumentSdk } from './test-support';

/*
 * Two self-hosted OpenAI-compatible servers, both played by the mock provider: "vllm" at its own
 * base URL (http://127.0.0.1:PORT/v1) and "ollama" behind a gateway under a path prefix
 * (http://127.0.0.1:OTHER/ollama/v1). The gateway also serves /v1 unprefixed, which no provider
 * entry names: calls there stay `openai`.
 */
let mock: MockProvider;
let gateway: PathPrefixProxy;
let harness: InstrumentedSdk['harness'];
let instrumentation: OpenAIInstrumentation;
let guard: Guard;

const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
const LLAMA_PRICE = { input: 0.2, output: 0.6 };
const messages = [{ role: 'user' as const, content: 'Summarise the release notes' }];

beforeAll(async () => {
  mock = await startMockProvider({ port: 0, outputTokens: 8 });
  gateway = await startPathPrefixProxy(mock.url, '/ollama');
});
afterAll(async () => {
  await gateway.close();
  await mock.close();
});
beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  mock.reset();
});
afterEach(() => uninstrumentSdk({ harness, instrumentation }, guard));

function setup(config: Parameters<typeof createGuard>[0] = {}): void {
  guard = createGuard({
    providers: [
      // Written with a trailing slash; clients use none.
      { name: 'vllm', baseURL: `${mock.url}/v1/`, prices: { [LLAMA]: LLAMA_PRICE } },
      { name: 'ollama', baseURL: `${gateway.url}/ollama/v1`, prices: { '*': { input: 0, output: 0 } } },
    ],
    ...config,
  });
  instrumentation.setConfig({ guard });
}

const client = (baseURL: string) => new OpenAI({ apiKey: 'unused', baseURL, maxRetries: 0 });
const vllm = () => client(mock.openaiBaseUrl);
const ollama = () => client(`${gateway.url}/ollama/v1`);

async function settled(): Promise<void> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

async function refusal(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('self-hosted OpenAI-compatible servers named by base URL', () => {
  it('carry the configured provider name on spans and metrics; other URLs stay openai', async () => {
    setup();
    await vllm().chat.completions.create({ model: LLAMA, max_tokens: 20, messages });
    await ollama().chat.completions.create({ model: 'llama3.2', max_tokens: 20, messages });
    await client(`${gateway.url}/v1`).chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 20,
      messages,
    });
    await settled();

    expect(mock.requests().map((request) => request.model)).toEqual([LLAMA, 'llama3.2', 'gpt-4o-mini']);
    const spans = harness.spans.getFinishedSpans().map((span) => span.attributes);
    expect(spans.map((span) => span['gen_ai.provider.name'])).toEqual(['vllm', 'ollama', 'openai']);
    expect(spans[1]).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(gateway.url).port),
    });
    for (const name of [
      'tollgate.gate.decisions',
      'gen_ai.client.token.usage',
      'gen_ai.client.operation.duration',
    ]) {
      const providers = new Set(
        (await harness.metricPoints(name)).map((point) => point.attributes['gen_ai.provider.name']),
      );
      expect(providers, name).toEqual(new Set(['vllm', 'ollama', 'openai']));
    }
  });

  it("are priced from their own figures, and a call's settled cost is exact", async () => {
    setup({ budgets: [{ id: 'vllm-usd', limit: { usd: 1 }, window: 'day', match: { provider: 'vllm' } }] });
    await vllm().chat.completions.create({ model: LLAMA, max_tokens: 40, messages });
    const stream = await vllm().chat.completions.create({
      model: LLAMA,
      max_tokens: 40,
      messages,
      stream: true,
    });
    for await (const _chunk of stream) {
      // consume
    }
    await settled();

    const expected = mock
      .requests()
      .reduce(
        (sum, { billed }) =>
          sum + (billed.inputTokens * LLAMA_PRICE.input + billed.outputTokens * LLAMA_PRICE.output) / 1e6,
        0,
      );
    const [status] = await guard.budgetStatus('vllm-usd');
    expect(status).toMatchObject({ reserved: 0 });
    expect(status!.spent).toBeCloseTo(expected, 15);
    expect(status!.spent).toBeGreaterThan(0);
    const spans = harness.spans.getFinishedSpans();
    expect(spans[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'vllm',
      'tollgate.price.model': LLAMA,
      'tollgate.usage.source': 'provider',
    });
    expect(spans.map((span) => span.attributes['tollgate.cost.reconciled_usd'])).toEqual(
      mock
        .requests()
        .map(({ billed }) =>
          expect.closeTo((billed.inputTokens * 0.2 + billed.outputTokens * 0.6) / 1e6, 15),
        ),
    );
  });

  it('never borrow a hosted price: a model missing from the provider list follows unknownModel', async () => {
    setup({ budgets: [{ id: 'usd', limit: { usd: 1 }, window: 'day' }] });
    // gpt-4o-mini is in the bundled table, but not among vllm's prices.
    const error = await refusal(
      vllm().chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 10, messages }),
    );
    expect(error).toBeInstanceOf(UnknownModelPriceError);
    expect(mock.requests()).toHaveLength(0);
  });

  it('charge unknownModel.fallback for a model missing from the provider list, when configured', async () => {
    setup({
      budgets: [{ id: 'usd', limit: { usd: 1 }, window: 'day' }],
      unknownModel: { fallback: { input: 1, output: 2 } },
    });
    await vllm().chat.completions.create({ model: 'Qwen/Qwen2.5-7B-Instruct', max_tokens: 10, messages });
    await settled();
    const { billed } = mock.requests()[0]!;
    const [status] = await guard.budgetStatus('usd');
    expect(status!.spent).toBeCloseTo((billed.inputTokens * 1 + billed.outputTokens * 2) / 1e6, 15);
  });

  it("a token budget on one provider refuses that provider's call before sending, and leaves the other alone", async () => {
    setup({
      budgets: [
        { id: 'ollama-tokens', limit: { tokens: 500 }, window: 'day', match: { provider: 'ollama' } },
      ],
    });
    await ollama().chat.completions.create({ model: 'llama3.2', max_tokens: 100, messages });
    await settled();
    const [afterFirst] = await guard.budgetStatus('ollama-tokens');
    const { billed } = mock.requests()[0]!;
    expect(afterFirst!.spent).toBe(billed.inputTokens + billed.outputTokens);

    const error = await refusal(
      ollama().chat.completions.create({ model: 'llama3.2', max_tokens: 1000, messages }),
    );
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).budgetId).toBe('ollama-tokens');
    expect(mock.requests()).toHaveLength(1);

    await vllm().chat.completions.create({ model: LLAMA, max_tokens: 1000, messages });
    expect(mock.requests()).toHaveLength(2);
  });

  it('a rate limit is keyed by the provider name', async () => {
    setup({ rateLimits: [{ provider: 'ollama', rpm: 1, maxWaitMillis: 50 }] });
    await ollama().chat.completions.create({ model: 'llama3.2', max_tokens: 10, messages });
    const error = await refusal(
      ollama().chat.completions.create({ model: 'llama3.2', max_tokens: 10, messages }),
    );
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).limiterKey).toBe('ollama:llama3.2');
    // The same model on another server is not limited by ollama's rule.
    await vllm().chat.completions.create({ model: 'llama3.2', max_tokens: 10, messages });
    expect(mock.requests().map((request) => request.model)).toEqual(['llama3.2', 'llama3.2']);
    expect(harness.spans.getFinishedSpans().map((span) => span.attributes['tollgate.gate.decision'])).toEqual(
      ['allowed', 'rate_limited', 'allowed'],
    );
  });

  it("the server's own rate-limit headers feed the limiter bucket its calls are admitted through", async () => {
    setup({ rateLimits: [{ provider: 'vllm', rpm: 600, maxWaitMillis: 50 }] });
    // One request a minute: after the first reply, x-ratelimit-remaining-requests is 0.
    mock.configure({ rateLimit: { limitRequests: 1, limitTokens: 1_000_000, enforce: false } });
    try {
      await vllm().chat.completions.create({ model: LLAMA, max_tokens: 10, messages });
      await settled();
      const error = await refusal(vllm().chat.completions.create({ model: LLAMA, max_tokens: 10, messages }));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).limiterKey).toBe(`vllm:${LLAMA}`);
      expect(mock.requests()).toHaveLength(1);
    } finally {
      mock.configure({ rateLimit: { limitRequests: 10_000, limitTokens: 30_000_000, enforce: false } });
    }
  });
});

describe('a zero-priced provider under a USD budget', () => {
  it('is admitted and charged $0, even once hosted calls have used the USD budget up', async () => {
    setup({ budgets: [{ id: 'usd', limit: { usd: 0.00001 }, window: 'day' }] });
    await ollama().chat.completions.create({ model: 'llama3.2', max_tokens: 50, messages });
    await settled();
    const [afterOllama] = await guard.budgetStatus('usd');
    expect(afterOllama).toMatchObject({ spent: 0, reserved: 0 });
    expect(harness.spans.getFinishedSpans()[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'ollama',
      'tollgate.price.model': 'llama3.2',
      'tollgate.cost.estimated_usd': 0,
      'tollgate.cost.reconciled_usd': 0,
    });

    // vllm calls spend the budget until one is refused.
    let hosted: unknown;
    for (let call = 0; call < 10 && hosted === undefined; call++) {
      hosted = await refusal(vllm().chat.completions.create({ model: LLAMA, max_tokens: 10, messages }));
      await settled();
    }
    expect(hosted).toBeInstanceOf(BudgetExceededError);
    const [spentUp] = await guard.budgetStatus('usd');

    const served = mock.requests().length;
    await ollama().chat.completions.create({ model: 'llama3.2', max_tokens: 50, messages });
    expect(mock.requests()).toHaveLength(served + 1);
    const [after] = await guard.budgetStatus('usd');
    expect(after!.spent).toBe(spentUp!.spent);
  });
});
