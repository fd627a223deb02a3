import { OpenAIChatLanguageModel } from '@ai-sdk/openai/internal';
import {
  BudgetExceededError,
  createGuard,
  type Guard,
  type GuardConfig,
  TollgateConfigError,
} from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tollgateMiddleware } from './middleware';
import {
  type InstrumentedSdk,
  instrumentSdk,
  mockProviders,
  settled,
  tollgateSpans,
  uninstrumentSdk,
} from './test-support';

const TOKEN_BUDGET: GuardConfig = {
  budgets: [{ id: 'tokens', limit: { tokens: 1_000_000 }, window: 'day' }],
};

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard;

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 5 });
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  guard = createGuard(TOKEN_BUDGET);
  sdk = instrumentSdk(guard);
  mock.reset();
});
afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
});

async function tokenBudget() {
  return (await guard.budgetStatus('tokens'))[0]!;
}

/**
 * A chat model from `@ai-sdk/openai/internal`: a separately bundled copy of the model classes (the
 * one `@ai-sdk/azure` builds on), which the instrumentation does not patch.
 */
function unpatchedModel(provider = 'compatible.chat') {
  return new OpenAIChatLanguageModel('gpt-4o-mini', {
    provider,
    url: ({ path }) => `${mock.openaiBaseUrl}${path}`,
    headers: () => ({ authorization: 'Bearer test-key' }),
  });
}

describe('tollgateMiddleware', () => {
  it('gates a model no instrumentation patches, and settles it exactly', async () => {
    const model = wrapLanguageModel({
      model: unpatchedModel(),
      middleware: tollgateMiddleware({
        guard,
        providerName: 'openai',
        tracerProvider: sdk.harness.tracerProvider,
      }),
    });
    await generateText({ model, prompt: 'Say hello to the mock provider', maxOutputTokens: 50 });
    const stream = streamText({ model, prompt: 'Say hello to the mock provider', maxOutputTokens: 50 });
    expect(await stream.text).toBe('Hello world this is a');
    await settled(mock);

    const billed = mock.billed();
    expect(mock.requests()).toHaveLength(2);
    expect(await tokenBudget()).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
    expect(tollgateSpans(sdk).map((span) => span.attributes['gen_ai.provider.name'])).toEqual([
      'openai',
      'openai',
    ]);
  });

  it('names the provider from the model when no providerName is given', async () => {
    const model = wrapLanguageModel({
      model: unpatchedModel('compatible.chat'),
      middleware: tollgateMiddleware({ guard: createGuard(), tracerProvider: sdk.harness.tracerProvider }),
    });
    await generateText({ model, prompt: 'Say hello', maxOutputTokens: 20 });
    await settled(mock);
    expect(tollgateSpans(sdk)[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'compatible',
      'gen_ai.request.model': 'gpt-4o-mini',
    });
  });

  it('refuses an over-budget call before sending', async () => {
    const tiny = createGuard({ budgets: [{ id: 'tiny', limit: { usd: 0.0001 }, window: 'day' }] });
    const model = wrapLanguageModel({
      model: unpatchedModel('openai.chat'),
      middleware: tollgateMiddleware({ guard: tiny }),
    });
    const refusal = await generateText({ model, prompt: 'Say hello' }).catch((error: unknown) => error);
    await tiny.close();

    expect(BudgetExceededError.isInstance(refusal)).toBe(true);
    expect(mock.requests()).toHaveLength(0);
  });

  it('passes a model the instrumentation already gates straight through: one span, tokens counted once', async () => {
    const patched = mockProviders(mock).anthropic('claude-haiku-4-5');
    const model = wrapLanguageModel({ model: patched, middleware: tollgateMiddleware({ guard }) });
    await generateText({ model, prompt: 'Say hello to the mock provider', maxOutputTokens: 50 });
    await settled(mock);

    const billed = mock.billed();
    expect(tollgateSpans(sdk)).toHaveLength(1);
    expect(await tokenBudget()).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
  });

  it('counts once even when another middleware hides the patched model: the outer gate admits, the hook steps aside', async () => {
    const patched = mockProviders(mock, 'cjs').openai('gpt-4o-mini');
    const logging = wrapLanguageModel({
      model: patched,
      middleware: { specificationVersion: 'v3', transformParams: async ({ params }) => params },
    });
    const model = wrapLanguageModel({
      model: logging,
      middleware: tollgateMiddleware({ guard, tracerProvider: sdk.harness.tracerProvider }),
    });
    const stream = streamText({ model, prompt: 'Say hello to the mock provider', maxOutputTokens: 50 });
    await stream.text;
    await generateText({ model, prompt: 'Say hello to the mock provider', maxOutputTokens: 50 });
    await settled(mock);

    const billed = mock.billed();
    expect(mock.requests()).toHaveLength(2);
    expect(tollgateSpans(sdk)).toHaveLength(2);
    expect(await tokenBudget()).toMatchObject({
      reserved: 0,
      spent: billed.inputTokens + billed.outputTokens,
    });
  });

  it('rejects a missing guard with a TollgateConfigError naming the option', () => {
    expect(() => tollgateMiddleware({} as never)).toThrow(TollgateConfigError);
    expect(() => tollgateMiddleware({} as never)).toThrow(/tollgateMiddleware\.guard/);
  });
});
