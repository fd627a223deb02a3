import { BudgetExceededError, createGuard, type Guard } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type InstrumentedSdk,
  instrumentSdk,
  mockProviders,
  settled,
  TOLLGATE_SCOPE,
  uninstrumentSdk,
} from './test-support';

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard | undefined;

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 5 });
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  sdk = instrumentSdk();
  mock.reset();
  mock.configure({ latencyMillis: 0, toolCalls: 'when-forced' });
});
afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
  guard = undefined;
});

const prompt = 'Say hello to the mock provider';

describe('concurrent callers', () => {
  it('20 at once against a budget that fits 5: 5 are sent, 15 refused before sending, nothing overshoots', async () => {
    // One call's reservation, read from a first call's span, sizes the budget at 5.5 calls.
    guard = createGuard();
    sdk.instrumentation.setConfig({ guard });
    const providers = mockProviders(mock);
    await generateText({ model: providers.anthropic('claude-haiku-4-5'), prompt, maxOutputTokens: 40 });
    await settled(mock);
    const [probe] = sdk.harness.spans
      .getFinishedSpans()
      .filter((span) => span.instrumentationScope.name === TOLLGATE_SCOPE);
    const reservation =
      Number(probe!.attributes['tollgate.estimate.input_tokens']) +
      Number(probe!.attributes['tollgate.estimate.max_output_tokens']);
    await guard.close();
    mock.reset();
    mock.configure({ latencyMillis: 50 });

    const limit = Math.floor(reservation * 5.5);
    guard = createGuard({ budgets: [{ id: 'day', limit: { tokens: limit }, window: 'day' }] });
    sdk.instrumentation.setConfig({ guard });
    const cjs = mockProviders(mock, 'cjs');
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        generateText({
          model: (index % 2 ? cjs : providers).anthropic('claude-haiku-4-5'),
          prompt,
          maxOutputTokens: 40,
        }).then(
          () => 'allowed',
          (error: unknown) => (BudgetExceededError.isInstance(error) ? 'refused' : String(error)),
        ),
      ),
    );
    await settled(mock);

    expect(outcomes.filter((outcome) => outcome === 'allowed')).toHaveLength(5);
    expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(15);
    expect(mock.requests()).toHaveLength(5);
    const status = (await guard.budgetStatus('day'))[0]!;
    const billed = mock.billed();
    expect(status).toMatchObject({ reserved: 0, spent: billed.inputTokens + billed.outputTokens });
    expect(status.spent).toBeLessThanOrEqual(limit);
  });
});

describe('with the AI SDK telemetry on', () => {
  it("puts Tollgate's CLIENT span under each step's doGenerate / doStream span, and counts each token once", async () => {
    guard = createGuard();
    sdk.instrumentation.setConfig({ guard });
    mock.configure({ toolCalls: 'when-offered' });
    const model = mockProviders(mock).openai('gpt-4o-mini');
    await generateText({
      model,
      prompt: 'What is the weather in Paris?',
      maxOutputTokens: 100,
      stopWhen: stepCountIs(3),
      tools: {
        weather: tool({
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => ({ city, celsius: 21 }),
        }),
      },
      experimental_telemetry: { isEnabled: true },
    });
    const stream = streamText({
      model,
      prompt,
      maxOutputTokens: 100,
      experimental_telemetry: { isEnabled: true },
    });
    await stream.text;
    await settled(mock);

    const finished = sdk.harness.spans.getFinishedSpans();
    const byId = new Map(finished.map((span) => [span.spanContext().spanId, span]));
    const tollgate = finished.filter((span) => span.instrumentationScope.name === TOLLGATE_SCOPE);
    expect(tollgate).toHaveLength(3);
    const parents = tollgate.map((span) => byId.get(span.parentSpanContext?.spanId ?? '')?.name);
    expect(parents).toEqual([
      'ai.generateText.doGenerate',
      'ai.generateText.doGenerate',
      'ai.streamText.doStream',
    ]);
    const grandparents = tollgate.map((span) => {
      const parent = byId.get(span.parentSpanContext?.spanId ?? '');
      return byId.get(parent?.parentSpanContext?.spanId ?? '')?.name;
    });
    expect(grandparents).toEqual(['ai.generateText', 'ai.generateText', 'ai.streamText']);

    const billed = mock.billed();
    const points = await sdk.harness.metricPoints('gen_ai.client.token.usage');
    const sum = (type: string) =>
      points
        .filter((point) => point.attributes['gen_ai.token.type'] === type)
        .reduce((total, point) => total + (point.value as { sum: number }).sum, 0);
    expect(sum('input')).toBe(billed.inputTokens);
    expect(sum('output')).toBe(billed.outputTokens);
  });
});
