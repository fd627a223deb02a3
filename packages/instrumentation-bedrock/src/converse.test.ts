import {
  type BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
} from '@aws-sdk/client-bedrock-runtime';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BudgetExceededError,
  createGuard,
  type Guard,
  type GuardConfig,
  UnknownModelPriceError,
} from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BedrockInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClients, uninstrumentSdk } from './test-support';

const SCOPE = '@tollgate/instrumentation-bedrock';
const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const PRICED = 'anthropic.claude-sonnet-4-5-20250929-v1:0';

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: BedrockInstrumentation;
let guard: Guard;
let client: BedrockRuntimeClient;
const clients = mockClients(() => mock);

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  clients.destroyAll();
  await mock.close();
});
beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  useGuard();
  mock.reset();
  mock.configure({
    outputTokens: 12,
    chunkDelayMillis: 0,
    latencyMillis: 0,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
  });
  client = clients.create();
});
afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

function useGuard(config: GuardConfig = {}): void {
  guard = createGuard({ estimator: { anthropicSafetyFactor: 1 }, ...config });
  instrumentation.setConfig({ guard });
}

const converseInput = (overrides: Record<string, unknown> = {}) => ({
  modelId: MODEL,
  system: [{ text: 'You are terse.' }],
  messages: [{ role: 'user' as const, content: [{ text: 'Say hello to the test suite please' }] }],
  inferenceConfig: { maxTokens: 50 },
  ...overrides,
});

async function settled(): Promise<void> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

function spans(): ReadableSpan[] {
  return harness.spans.getFinishedSpans().filter((span) => span.instrumentationScope.name === SCOPE);
}

function onlySpan(): ReadableSpan {
  const found = spans();
  expect(found).toHaveLength(1);
  return found[0]!;
}

async function budget(id: string) {
  return (await guard.budgetStatus(id))[0]!;
}

describe('BedrockInstrumentation — Converse', () => {
  it('settles from the output usage, cache reads and writes counted as input, with GenAI span attributes', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    mock.configure({ cacheReadInputTokens: 6, cacheWriteInputTokens: 4 });
    const output = await client.send(new ConverseCommand(converseInput()));
    await settled();
    const usage = output.usage!;
    expect(usage).toMatchObject({ outputTokens: 12, cacheReadInputTokens: 6, cacheWriteInputTokens: 4 });
    const billed = mock.billed();
    expect(usage.inputTokens! + 6 + 4).toBe(billed.inputTokens);
    const span = onlySpan();
    expect(span.name).toBe(`chat ${MODEL}`);
    expect(span.kind).toBe(2); // CLIENT
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'aws.bedrock',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': MODEL,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.id': mock.requests()[0]!.id,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.usage.cache_read.input_tokens': 6,
      'gen_ai.usage.cache_creation.input_tokens': 4,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(mock.url).port),
      'tollgate.gate.decision': 'allowed',
      'tollgate.price.model': PRICED,
      'tollgate.usage.source': 'provider',
      'tollgate.attempts': 1,
    });
    // Sonnet 4.5 on Bedrock: $3 / $15 per 1M, cache reads $0.30, writes $3.75.
    const expectedUsd = ((billed.inputTokens - 10) * 3 + 6 * 0.3 + 4 * 3.75 + 12 * 15) / 1e6;
    expect(span.attributes['tollgate.cost.reconciled_usd']).toBeCloseTo(expectedUsd, 12);
    expect(await budget('day')).toMatchObject({ reserved: 0 });
    expect((await budget('day')).spent).toBeCloseTo(expectedUsd, 12);
  });

  it('refuses before any request is sent when the budget cannot hold the worst case', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { usd: 0.0001 }, window: 'day' }] });
    await expect(client.send(new ConverseCommand(converseInput()))).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    // Callback form: the same typed error, through the callback.
    const viaCallback = await new Promise((resolve) =>
      client.send(new ConverseCommand(converseInput()), (error: unknown) => resolve(error)),
    );
    expect(viaCallback).toBeInstanceOf(BudgetExceededError);
    await settled();
    expect(mock.requests()).toHaveLength(0);
    expect(spans().map((span) => span.attributes['tollgate.gate.decision'])).toEqual([
      'budget_exceeded',
      'budget_exceeded',
    ]);
  });

  it('reserves input plus the request cap at list price, and releases the difference at settlement', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    await client.send(new ConverseCommand(converseInput({ inferenceConfig: { maxTokens: 400 } })));
    await settled();
    const span = onlySpan();
    const inputEstimate = span.attributes['tollgate.estimate.input_tokens'] as number;
    expect(span.attributes['tollgate.estimate.max_output_tokens']).toBe(400);
    // The worst case prices every input token at the dearer cache-write rate ($3.75), as it may be written.
    expect(span.attributes['tollgate.cost.estimated_usd']).toBeCloseTo(
      (inputEstimate * 3.75 + 400 * 15) / 1e6,
      12,
    );
    expect(span.attributes['tollgate.cost.reconciled_usd']).toBeLessThan(
      span.attributes['tollgate.cost.estimated_usd'] as number,
    );
  });

  it("without maxTokens reserves the model's maximum, and with defaultMaxOutputTokens sends that cap", async () => {
    useGuard({ budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }] });
    await client.send(new ConverseCommand(converseInput({ inferenceConfig: { temperature: 0 } })));
    await settled();
    expect(onlySpan().attributes['tollgate.estimate.max_output_tokens']).toBe(64_000);
    expect((mock.requests()[0]!.body as { inferenceConfig: unknown }).inferenceConfig).toEqual({
      temperature: 0,
    });

    harness.spans.reset();
    mock.reset();
    useGuard({
      budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }],
      defaultMaxOutputTokens: 7,
    });
    const command = new ConverseCommand(converseInput({ inferenceConfig: { temperature: 0 } }));
    const output = await client.send(command);
    await settled();
    expect((mock.requests()[0]!.body as { inferenceConfig: unknown }).inferenceConfig).toEqual({
      temperature: 0,
      maxTokens: 7,
    });
    expect(output.usage?.outputTokens).toBe(7);
    expect(output.stopReason).toBe('max_tokens');
    expect(onlySpan().attributes['gen_ai.request.max_tokens']).toBe(7);
    // The caller's command is left as it was, and can be sent again.
    expect(command.input.inferenceConfig).toEqual({ temperature: 0 });
  });

  it('prices cross-region profiles and ARNs as their base model, and sends the id the caller gave', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    const ids = [
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      `arn:aws:bedrock:us-east-1::foundation-model/${PRICED}`,
      `arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.${PRICED}`,
    ];
    for (const modelId of ids) await client.send(new ConverseCommand(converseInput({ modelId })));
    await settled();
    expect(mock.requests().map((request) => request.model)).toEqual(ids);
    expect(spans().map((span) => span.attributes['tollgate.price.model'])).toEqual(ids.map(() => PRICED));
    expect(spans().map((span) => span.attributes['gen_ai.request.model'])).toEqual([
      ids[0],
      ids[1],
      PRICED,
      `us.${PRICED}`,
    ]);
  });

  it('refuses a model it cannot price under a USD budget, before sending, and lets it through under a token budget', async () => {
    const modelId = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5';
    useGuard({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    await expect(client.send(new ConverseCommand(converseInput({ modelId })))).rejects.toBeInstanceOf(
      UnknownModelPriceError,
    );
    expect(mock.requests()).toHaveLength(0);
    useGuard({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    await client.send(new ConverseCommand(converseInput({ modelId })));
    await settled();
    expect(mock.requests()).toHaveLength(1);
  });

  it('leaves other Bedrock commands alone', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { usd: 0.0000001 }, window: 'day' }] });
    const output = await client.send(
      new CountTokensCommand({ modelId: MODEL, input: { converse: { messages: converseInput().messages } } }),
    );
    expect(output.inputTokens).toBeGreaterThan(0);
    expect(spans()).toHaveLength(0);
  });
});

describe('BedrockInstrumentation — ConverseStream', () => {
  async function read(stream: AsyncIterable<unknown> | undefined, stopAfter = Number.POSITIVE_INFINITY) {
    const seen: Array<{ event: Record<string, unknown>; atMs: number }> = [];
    for await (const event of stream ?? []) {
      seen.push({ event: event as Record<string, unknown>, atMs: performance.now() });
      if (seen.length >= stopAfter) break;
    }
    return seen;
  }

  it('settles from the final metadata event, handing on every event as it arrives', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    mock.configure({ chunkDelayMillis: 15, outputTokens: 6 });
    const output = await client.send(new ConverseStreamCommand(converseInput()));
    const seen = await read(output.stream);
    await settled();
    const kinds = seen.map(({ event }) => Object.keys(event)[0]);
    expect(kinds.at(0)).toBe('messageStart');
    expect(kinds.at(-1)).toBe('metadata');
    expect(kinds.filter((kind) => kind === 'contentBlockDelta')).toHaveLength(6);
    // No event waits for the next one: the first delta reaches the caller long before the metadata.
    const firstDelta = seen.find(({ event }) => 'contentBlockDelta' in event)!;
    expect(seen.at(-1)!.atMs - firstDelta.atMs).toBeGreaterThan(5 * 10);
    const billed = mock.billed();
    expect(onlySpan().attributes).toMatchObject({
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': 6,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'tollgate.usage.source': 'provider',
    });
    expect(onlySpan().attributes['tollgate.stream.interrupted']).toBeUndefined();
    expect((await budget('day')).reserved).toBe(0);
  });

  it('an abort mid-stream ends the stream and settles the output that arrived', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    mock.configure({ chunkDelayMillis: 20, outputTokens: 30 });
    const controller = new AbortController();
    const output = await client.send(new ConverseStreamCommand(converseInput()), {
      abortSignal: controller.signal,
    });
    let deltas = 0;
    // The SDK ends the event stream quietly when the request is aborted.
    for await (const event of output.stream ?? []) {
      if (event.contentBlockDelta && ++deltas === 3) controller.abort();
    }
    await settled();
    const span = onlySpan();
    expect(span.attributes['tollgate.stream.interrupted']).toBe(true);
    expect(span.attributes['tollgate.usage.source']).toBe('local_count');
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThanOrEqual(3);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeLessThan(30);
    expect(mock.requests()[0]).toMatchObject({ clientAborted: true });
    expect((await budget('day')).reserved).toBe(0);
  });

  it('a break before the metadata settles at the reserved output: Bedrock keeps generating', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    mock.configure({ chunkDelayMillis: 5, outputTokens: 20 });
    const output = await client.send(new ConverseStreamCommand(converseInput()));
    await read(output.stream, 3);
    await settled();
    const span = onlySpan();
    expect(span.attributes['tollgate.stream.interrupted']).toBe(true);
    const status = await budget('day');
    expect(status.reserved).toBe(0);
    expect(status.spent).toBe((span.attributes['tollgate.estimate.input_tokens'] as number) + 50);
  });

  it('a stream without a metadata event settles from the streamed text', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    mock.inject({ kind: 'malformed-usage' });
    const output = await client.send(new ConverseStreamCommand(converseInput()));
    await read(output.stream);
    await settled();
    expect(onlySpan().attributes).toMatchObject({
      'tollgate.usage.source': 'local_count',
      'gen_ai.usage.output_tokens': 12,
    });
  });
});
