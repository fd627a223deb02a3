import { afterEach, describe, expect, it } from 'vitest';
import type { LlmCallDescriptor } from '../call/llm-call';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import type { CircuitOpenError } from '../errors/circuit-open-error';
import { chat, closeGuards, guardWith } from '../guard/test-support';

afterEach(closeGuards);

/** Listed cheapest first by worst case for a short prompt: gemini-2.0-flash < gpt-4o-mini < claude-haiku-4-5. */
const cheapest = {
  id: 'cheapest',
  action: 'cheapest',
  models: ['openai:gpt-4o-mini', 'anthropic:claude-haiku-4-5', 'gcp.gemini:gemini-2.0-flash'],
} as const;

function anyProvider(call: LlmCallDescriptor): LlmCallDescriptor {
  return { ...call, substitutes: 'any-provider' };
}

describe('cheapest rule', () => {
  it('sends the call to the listed model with the lowest worst case, and says so', async () => {
    const { guard, events } = guardWith({ policies: [cheapest] });
    const admission = await guard.admit(anyProvider(chat('gpt-4o-mini', 200)));
    expect(admission).toMatchObject({
      provider: 'gcp.gemini',
      model: 'gemini-2.0-flash',
      requestedModel: 'gpt-4o-mini',
    });
    expect(admission.estimate.pricedModel).toBe('gemini-2.0-flash');
    expect(events.find((event) => event.type === 'model-fallback')).toMatchObject({
      ruleId: 'cheapest',
      trigger: 'cheapest',
      fromProvider: 'openai',
      toProvider: 'gcp.gemini',
      toModel: 'gemini-2.0-flash',
    });
  });

  it('chooses among the caller’s own provider only, unless it declared it can switch', async () => {
    const { guard, events } = guardWith({
      policies: [
        {
          id: 'cheapest',
          action: 'cheapest',
          models: ['gpt-4o', 'gpt-4o-mini', 'gcp.gemini:gemini-2.0-flash'],
        },
      ],
    });
    expect(await guard.admit(chat('gpt-4o', 200))).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
    });
    // Already the cheapest it may use: sent as asked, with no event.
    expect(await guard.admit(chat('gpt-4o-mini-2024-07-18', 200))).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini-2024-07-18',
    });
    expect(events.filter((event) => event.type === 'model-fallback')).toHaveLength(1);
    // A model not in the list is left alone.
    expect((await guard.admit(chat('gpt-4.1', 200))).model).toBe('gpt-4.1');
  });

  it('skips a candidate whose circuit is open', async () => {
    const { guard } = guardWith({ policies: [cheapest] });
    guard.circuits.open('gcp.gemini', 'gemini-2.0-flash');
    expect(await guard.admit(anyProvider(chat('gpt-4o-mini', 200)))).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
    });
    // The requested model's own open circuit is routed around, not refused.
    guard.circuits.open('openai', 'gpt-4o-mini');
    expect(await guard.admit(anyProvider(chat('gpt-4o-mini', 200)))).toMatchObject({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
    });
  });

  it('skips a candidate whose budget has no room', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'gemini', limit: { requests: 1 }, window: 'day', match: { provider: 'gcp.gemini' } }],
      policies: [cheapest],
    });
    const first = await guard.admit(anyProvider(chat('gpt-4o-mini', 200)));
    expect(first.model).toBe('gemini-2.0-flash');
    const second = await guard.admit(anyProvider(chat('gpt-4o-mini', 200)));
    expect(second).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
  });

  it('breaks ties by list order', async () => {
    const tied = { input: 1, output: 1 };
    const { guard } = guardWith({
      prices: { overrides: { 'house-a': tied, 'house-b': tied, 'house-c': { input: 2, output: 2 } } },
      policies: [{ id: 'cheapest', action: 'cheapest', models: ['house-c', 'house-b', 'house-a'] }],
    });
    expect((await guard.admit(chat('house-c', 100))).model).toBe('house-b');
    expect((await guard.admit(chat('house-a', 100))).model).toBe('house-b');
  });

  it('refuses with the error the first candidate would have got when none qualifies', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'openai', limit: { requests: 1 }, window: 'day', match: { provider: 'openai' } }],
      policies: [cheapest],
    });
    guard.circuits.open('gcp.gemini', 'gemini-2.0-flash');
    guard.circuits.open('anthropic', 'claude-haiku-4-5');
    await guard.admit(anyProvider(chat('gpt-4o-mini', 200)));
    const error = await guard.admit(anyProvider(chat('gpt-4o-mini', 200))).catch((caught: unknown) => caught);
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect((error as BudgetExceededError).budgetId).toBe('openai');
    // One refusal reported, the one the caller got.
    expect(events.filter((event) => event.type === 'budget-exceeded')).toHaveLength(1);
    expect(events.some((event) => event.type === 'circuit-open')).toBe(false);

    // With the first candidate's circuit open, that is the refusal.
    guard.circuits.open('openai', 'gpt-4o-mini');
    const open = await guard.admit(anyProvider(chat('gpt-4o-mini', 200))).catch((caught: unknown) => caught);
    expect((open as CircuitOpenError).circuitKey).toBe('openai:gpt-4o-mini');
  });

  it('ranks a candidate with no price last', async () => {
    const { guard } = guardWith({
      policies: [{ id: 'cheapest', action: 'cheapest', models: ['house-model', 'gpt-4o'] }],
    });
    expect((await guard.admit(chat('house-model', 100))).model).toBe('gpt-4o');
    guard.circuits.open('openai', 'gpt-4o');
    expect((await guard.admit(chat('gpt-4o', 100))).model).toBe('house-model');
  });

  it('routes to a configured server by its name, priced by its own figures', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'daily', limit: { usd: 10 }, window: 'day' }],
      providers: [
        {
          name: 'vllm',
          baseURL: 'http://gpu.internal:8000/v1',
          prices: { 'Llama-3.1-8B-Instruct': { input: 0.01, output: 0.02 } },
        },
      ],
      policies: [
        { id: 'cheapest', action: 'cheapest', models: ['gpt-4o-mini', 'vllm:Llama-3.1-8B-Instruct'] },
      ],
    });
    const admission = await guard.admit(anyProvider(chat('gpt-4o-mini', 200)));
    expect(admission).toMatchObject({ provider: 'vllm', model: 'Llama-3.1-8B-Instruct' });
    expect(admission.estimate.pricedModel).toBe('Llama-3.1-8B-Instruct');
    // A typo in the server's model is unpriced under the USD budget: refused at startup.
    expect(() =>
      guardWith({
        budgets: [{ id: 'daily', limit: { usd: 10 }, window: 'day' }],
        providers: [
          {
            name: 'vllm',
            baseURL: 'http://gpu.internal:8000/v1',
            prices: { 'llama-3.1-8b': { input: 0, output: 0 } },
          },
        ],
        policies: [{ id: 'cheapest', action: 'cheapest', models: ['gpt-4o-mini', 'vllm:llama-3.1-70b'] }],
      }),
    ).toThrow(/policies\[0\]\.models\[1\]: names model "llama-3.1-70b", which has no price/);
  });

  it('applies only while its trigger holds', async () => {
    const { guard } = guardWith({
      policies: [{ ...cheapest, when: { circuitOpen: true } }],
    });
    expect((await guard.admit(anyProvider(chat('gpt-4o-mini', 200)))).model).toBe('gpt-4o-mini');
    guard.circuits.open('openai', 'gpt-4o-mini');
    expect((await guard.admit(anyProvider(chat('gpt-4o-mini', 200)))).model).toBe('gemini-2.0-flash');
  });

  it('takes a half-open probe slot only for the model it picks', async () => {
    const { guard } = guardWith({
      policies: [cheapest],
      circuitBreakers: [{ provider: 'gcp.gemini', minCalls: 1, errorRateAbove: 0.5, openMillis: 20 }],
    });
    const tripped = await guard.admit(anyProvider(chat('gpt-4o-mini', 200)));
    await tripped.release('provider error', 'server_error');
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Half-open: the first call probes gemini, the next may not, and goes to the next cheapest.
    const probe = await guard.admit(anyProvider(chat('gpt-4o-mini', 200)));
    expect(probe.model).toBe('gemini-2.0-flash');
    expect((await guard.admit(anyProvider(chat('gpt-4o-mini', 200)))).model).toBe('gpt-4o-mini');
    await probe.settle({ inputTokens: 10, outputTokens: 10 });
    expect(guard.circuits.states()).toContainEqual(
      expect.objectContaining({ model: 'gemini-2.0-flash', state: 'closed' }),
    );
  });

  it('never overshoots a budget when many calls choose at once', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'calls', limit: { requests: 7 }, window: 'day' }],
      policies: [cheapest],
    });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => guard.admit(anyProvider(chat('gpt-4o-mini', 200)))),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(7);
    for (const result of results)
      if (result.status === 'rejected') expect(BudgetExceededError.isInstance(result.reason)).toBe(true);
    const [status] = await guard.budgetStatus('calls');
    expect(status!.reserved).toBe(7);
  });
});
