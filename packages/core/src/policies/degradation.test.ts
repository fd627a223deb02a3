import { afterEach, describe, expect, it } from 'vitest';
import type { LlmCallDescriptor } from '../call/llm-call';
import { PolicyRejectedError } from '../errors/policy-rejected-error';
import type { DecisionEvent } from '../events/decision-events';
import { createGuard, type Guard } from '../guard/guard';
import { withScope } from '../scope/with-scope';
import { fallbackFor } from './degradation';

const guards: Guard[] = [];
afterEach(async () => {
  await Promise.all(guards.splice(0).map((guard) => guard.close()));
});

function chat(model: string, maxTokens = 100): LlmCallDescriptor {
  return {
    provider: 'openai',
    operation: 'chat',
    model,
    body: { model, max_tokens: maxTokens, messages: [{ role: 'user', content: 'hi' }] },
  };
}

function guardWith(config: Parameters<typeof createGuard>[0]) {
  const events: DecisionEvent[] = [];
  const guard = createGuard({ ...config, onDecision: (event) => void events.push(event) });
  guards.push(guard);
  return { guard, events };
}

/** Spends `requests` calls' worth of the 10-request budget. */
async function spend(guard: Guard, calls: number) {
  for (let i = 0; i < calls; i++) await guard.run(chat('gpt-4o-mini'), async () => 'ok');
}

describe('degradation rules', () => {
  it('falls back to a cheaper model past the threshold and reserves at its price', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'calls', limit: { requests: 10 }, window: 'day' }],
      policies: [
        {
          id: 'cheaper',
          when: { budget: 'calls', usedAbove: 0.5 },
          action: 'fallback',
          models: { 'gpt-4o': 'gpt-4o-mini' },
        },
      ],
    });
    const before = await guard.admit(chat('gpt-4o'));
    expect(before.model).toBe('gpt-4o');
    await before.settle({ inputTokens: 1, outputTokens: 1 });
    await spend(guard, 5); // 6 of 10 used
    const after = await guard.admit(chat('gpt-4o-2024-08-06'));
    expect(after).toMatchObject({ model: 'gpt-4o-mini', requestedModel: 'gpt-4o-2024-08-06' });
    expect(after.estimate.pricedModel).toBe('gpt-4o-mini');
    const mini = await guard.admit(chat('gpt-4o-mini'));
    expect(after.estimate.worstCaseUsd).toBe(mini.estimate.worstCaseUsd);
    expect(events.find((event) => event.type === 'model-fallback')).toMatchObject({
      fromModel: 'gpt-4o-2024-08-06',
      toModel: 'gpt-4o-mini',
      ruleId: 'cheaper',
    });
    await after.settle(undefined);
    await mini.settle(undefined);
  });

  it('defers background calls past the threshold while interactive calls proceed', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'calls', limit: { requests: 10 }, window: 'day' }],
      policies: [{ id: 'hold-batch', when: { budget: 'calls', usedAbove: 0.5 }, action: 'defer' }],
    });
    await withScope({ priority: 'background' }, () => spend(guard, 6));
    const deferred = (await withScope({ priority: 'background' }, () =>
      guard.admit(chat('gpt-4o-mini')),
    ).catch((error: unknown) => error)) as PolicyRejectedError;
    expect(PolicyRejectedError.isInstance(deferred)).toBe(true);
    expect(deferred).toMatchObject({ action: 'defer', budgetId: 'calls', ruleId: 'hold-batch' });
    expect(deferred.retryAfterMs).toBeGreaterThan(0);
    await expect(guard.run(chat('gpt-4o-mini'), async () => 'interactive')).resolves.toBe('interactive');
    expect(events.filter((event) => event.type === 'policy-rejected')).toHaveLength(1);
  });

  it('rejects a matching scope before the shared budget is touched', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'calls', limit: { requests: 10 }, window: 'day' }],
      policies: [
        {
          id: 'stop-experiments',
          when: { budget: 'calls', usedAbove: 0.3 },
          action: 'reject',
          match: { feature: 'experiments' },
        },
      ],
    });
    await spend(guard, 4);
    await expect(
      withScope({ feature: 'experiments' }, () => guard.run(chat('gpt-4o-mini'), async () => 'x')),
    ).rejects.toMatchObject({
      action: 'reject',
      ruleId: 'stop-experiments',
    });
    await expect(
      withScope({ feature: 'search' }, () => guard.run(chat('gpt-4o-mini'), async () => 'ok')),
    ).resolves.toBe('ok');
    const [status] = await guard.budgetStatus('calls');
    expect(status!.spent).toBe(5);
  });

  it('validates rules at startup', () => {
    expect(() =>
      createGuard({
        budgets: [],
        policies: [{ id: 'x', when: { budget: 'nope', usedAbove: 0.5 }, action: 'defer' }],
      }),
    ).toThrow(/policies\[0\]\.when\.budget: names no configured budget/);
    expect(() =>
      createGuard({
        budgets: [{ id: 'b', limit: { usd: 1 }, window: 'day' }],
        policies: [{ id: 'x', when: { budget: 'b', usedAbove: 0.5 }, action: 'fallback', models: {} }],
      }),
    ).toThrow(/policies\[0\]\.models/);
  });
});

describe('fallbackFor', () => {
  it('prefers an exact model, then the longest prefix', () => {
    const models = {
      'claude-opus-*': 'claude-sonnet-4-5',
      'claude-opus-4-1': 'claude-haiku-4-5',
      'claude-*': 'claude-3-5-haiku',
    };
    expect(fallbackFor(models, ['claude-opus-4-1'])).toBe('claude-haiku-4-5');
    expect(fallbackFor(models, ['claude-opus-4-5-20251101', 'claude-opus-4-5'])).toBe('claude-sonnet-4-5');
    expect(fallbackFor(models, ['claude-sonnet-4'])).toBe('claude-3-5-haiku');
    expect(fallbackFor(models, ['gpt-4o'])).toBeUndefined();
  });
});
