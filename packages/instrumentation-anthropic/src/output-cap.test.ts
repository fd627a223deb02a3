import * as anthropicModule from '@anthropic-ai/sdk';
import { BudgetExceededError, createGuard, type Guard } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnthropicInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

// The provider writes far more than any default cap unless the request stops it: only a
// reservation that bounds what it may bill keeps a budget whole.
const PROVIDER_OUTPUT_TOKENS = 8_000;

const { Anthropic } = anthropicModule;
let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: AnthropicInstrumentation;
let guard: Guard;
let client: InstanceType<typeof Anthropic>;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  mock.reset();
  mock.configure({ outputTokens: PROVIDER_OUTPUT_TOKENS, chunkDelayMillis: 0, latencyMillis: 0 });
  client = mockClient(mock);
});
afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

function useGuard(config: Parameters<typeof createGuard>[0]) {
  guard = createGuard(config);
  instrumentation.setConfig({ guard });
}

let lastRefusal: BudgetExceededError | undefined;

/** One messages call read to the end; resolves false when the gate refused it. */
async function call(stream: boolean, maxTokens: number | undefined): Promise<boolean> {
  // Sent without max_tokens on purpose in some cases: the API refuses such a request, unless the gate adds it.
  const params = {
    model: 'claude-sonnet-4-6',
    messages: [{ role: 'user' as const, content: 'Write a very long story' }],
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
  } as { model: string; max_tokens: number; messages: { role: 'user'; content: string }[] };
  try {
    if (stream) {
      for await (const _event of await client.messages.create({ ...params, stream: true })) {
        // read it all
      }
    } else {
      await client.messages.create(params);
    }
    return true;
  } catch (error) {
    if (BudgetExceededError.isInstance(error)) {
      lastRefusal = error;
      return false;
    }
    throw error;
  }
}

async function tokensSpent(): Promise<number> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const [status] = await guard.budgetStatus('day');
  expect(status!.reserved).toBe(0);
  return status!.spent;
}

describe.each([false, true])('anthropic messages (stream: %s): the budget is never overspent', (stream) => {
  it("reserves the request's max_tokens, which the provider never passes", async () => {
    const limit = 5_000;
    useGuard({ budgets: [{ id: 'day', limit: { tokens: limit }, window: 'day' }] });
    let admitted = 0;
    for (let i = 0; i < 6; i++) if (await call(stream, 1_500)) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(2);
    const billed = mock.billed();
    expect(billed.outputTokens).toBe(admitted * 1_500);
    const spent = await tokensSpent();
    expect(spent).toBe(billed.inputTokens + billed.outputTokens);
    expect(spent).toBeLessThanOrEqual(limit);
  });

  it("without max_tokens, reserves the model's maximum output and refuses with advice when it does not fit", async () => {
    useGuard({ budgets: [{ id: 'day', limit: { tokens: 20_000 }, window: 'day' }] });
    lastRefusal = undefined;
    expect(await call(stream, undefined)).toBe(false);
    expect(mock.requests()).toHaveLength(0);
    expect(lastRefusal!.message).toContain('sets no max_tokens');
    expect(lastRefusal!.message).toContain('defaultMaxOutputTokens');
  });

  it('without max_tokens but with defaultMaxOutputTokens, sends that cap', async () => {
    const limit = 5_000;
    useGuard({
      budgets: [{ id: 'day', limit: { tokens: limit }, window: 'day' }],
      defaultMaxOutputTokens: 1_000,
    });
    let admitted = 0;
    for (let i = 0; i < 8; i++) if (await call(stream, undefined)) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(3);
    const served = mock.requests();
    expect(served).toHaveLength(admitted);
    for (const request of served) {
      expect(request.status).toBe(200);
      expect((request.body as Record<string, unknown>).max_tokens).toBe(1_000);
    }
    const spent = await tokensSpent();
    expect(spent).toBe(mock.billed().inputTokens + mock.billed().outputTokens);
    expect(spent).toBeLessThanOrEqual(limit);
  });
});
