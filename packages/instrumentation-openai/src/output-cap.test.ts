import { BudgetExceededError, createGuard, type Guard } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import * as openaiModule from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAIInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

// The provider writes far more than any default cap unless the request carries one: only a
// reservation that bounds what it may bill keeps a budget whole.
const PROVIDER_OUTPUT_TOKENS = 8_000;

const { OpenAI } = openaiModule;
let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: OpenAIInstrumentation;
let guard: Guard;
let client: InstanceType<typeof OpenAI>;

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

type Api = 'chat' | 'responses';
const CAP_FIELD: Record<Api, string> = { chat: 'max_completion_tokens', responses: 'max_output_tokens' };

/** One call with no output cap, read to the end; resolves false when the gate refused it. */
async function callWithoutCap(api: Api, stream: boolean): Promise<boolean> {
  try {
    if (api === 'chat') {
      const messages = [{ role: 'user' as const, content: 'Write a very long story' }];
      if (stream) {
        for await (const _chunk of await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages,
          stream: true,
        })) {
          // read it all
        }
      } else {
        await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
      }
    } else if (stream) {
      for await (const _event of await client.responses.create({
        model: 'gpt-4o-mini',
        input: 'Write a very long story',
        stream: true,
      })) {
        // read it all
      }
    } else {
      await client.responses.create({ model: 'gpt-4o-mini', input: 'Write a very long story' });
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
let lastRefusal: BudgetExceededError | undefined;

async function tokensSpent(): Promise<number> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const [status] = await guard.budgetStatus('day');
  expect(status!.reserved).toBe(0);
  return status!.spent;
}

describe.each([
  ['chat', false],
  ['chat', true],
  ['responses', false],
  ['responses', true],
] as const)('openai %s (stream: %s) without max tokens: the budget is never overspent', (api, stream) => {
  it("reserves the model's maximum output, and refuses with advice once it no longer fits", async () => {
    const limit = 20_000;
    useGuard({ budgets: [{ id: 'day', limit: { tokens: limit }, window: 'day' }] });
    lastRefusal = undefined;
    const admitted: boolean[] = [];
    for (let i = 0; i < 4; i++) admitted.push(await callWithoutCap(api, stream));
    // gpt-4o-mini may write 16,384 tokens: one call fits in 20,000, a second no longer does.
    expect(admitted).toEqual([true, false, false, false]);
    const billed = mock.billed();
    expect(billed.outputTokens).toBe(PROVIDER_OUTPUT_TOKENS);
    const spent = await tokensSpent();
    expect(spent).toBe(billed.inputTokens + billed.outputTokens);
    expect(spent).toBeLessThanOrEqual(limit);
    expect(lastRefusal!.message).toContain(`sets no ${CAP_FIELD[api]}`);
    expect(lastRefusal!.message).toContain('defaultMaxOutputTokens');
  });

  it('with defaultMaxOutputTokens, sends that cap so the provider stops where the reservation does', async () => {
    const limit = 5_000;
    useGuard({
      budgets: [{ id: 'day', limit: { tokens: limit }, window: 'day' }],
      defaultMaxOutputTokens: 1_000,
    });
    let admitted = 0;
    for (let i = 0; i < 8; i++) if (await callWithoutCap(api, stream)) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(3);
    const served = mock.requests();
    expect(served).toHaveLength(admitted);
    for (const request of served) {
      expect((request.body as Record<string, unknown>)[CAP_FIELD[api]]).toBe(1_000);
      expect(request.billed.outputTokens).toBeLessThanOrEqual(1_000);
    }
    // The span describes the request as sent.
    const allowed = harness.spans
      .getFinishedSpans()
      .filter((span) => span.attributes['tollgate.gate.decision'] === 'allowed');
    expect(allowed).toHaveLength(admitted);
    for (const span of allowed) expect(span.attributes['gen_ai.request.max_tokens']).toBe(1_000);
    const billed = mock.billed();
    const spent = await tokensSpent();
    expect(spent).toBe(billed.inputTokens + billed.outputTokens);
    expect(spent).toBeLessThanOrEqual(limit);
  });
});

describe('a request that sets its own cap', () => {
  it('is sent unchanged, whatever defaultMaxOutputTokens says', async () => {
    useGuard({ defaultMaxOutputTokens: 1_000 });
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 300,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const body = mock.requests()[0]!.body as Record<string, unknown>;
    expect(body.max_tokens).toBe(300);
    expect(body).not.toHaveProperty('max_completion_tokens');
  });
});
