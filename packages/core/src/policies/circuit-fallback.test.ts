import { afterEach, describe, expect, it } from 'vitest';
import type { GuardConfig } from '../config/guard-config';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { TollgateConfigError } from '../errors/config-error';
import type { Guard } from '../guard/guard';
import { createGuard } from '../guard/guard';
import { chat, closeGuards, guardWith } from '../guard/test-support';

afterEach(closeGuards);

const failover = {
  id: 'failover',
  when: { circuitOpen: true },
  action: 'fallback',
  models: { 'gpt-4o': 'gpt-4o-mini' },
} as const;

/** Opens the gpt-4o circuit with one failed call; it half-opens `openMillis` later. */
async function tripGpt4o(guard: Guard): Promise<void> {
  const admission = await guard.admit(chat('gpt-4o', 50));
  await admission.release('provider error', 'server_error');
  expect(guard.circuits.states()).toContainEqual(expect.objectContaining({ model: 'gpt-4o', state: 'open' }));
}

const breaker = { provider: 'openai', model: 'gpt-4o', minCalls: 1, errorRateAbove: 0.5, openMillis: 30 };

describe('fallback on an open circuit', () => {
  it('sends the call to the substitute, reserved at its price, and says why', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'daily', limit: { usd: 100 }, window: 'day' }],
      policies: [failover],
    });
    guard.circuits.open('openai', 'gpt-4o');
    const admission = await guard.admit(chat('gpt-4o', 200));
    expect(admission).toMatchObject({ model: 'gpt-4o-mini', requestedModel: 'gpt-4o' });
    expect(admission.estimate.pricedModel).toBe('gpt-4o-mini');
    const mini = await guard.admit(chat('gpt-4o-mini', 200));
    expect(admission.budgets[0]!.reserved).toBe(mini.budgets[0]!.reserved);
    expect(events.find((event) => event.type === 'model-fallback')).toMatchObject({
      ruleId: 'failover',
      fromModel: 'gpt-4o',
      toModel: 'gpt-4o-mini',
      model: 'gpt-4o-mini',
      trigger: 'circuit-open',
      budgetId: undefined,
      usedRatio: undefined,
    });
    // The open circuit was routed around, not refused.
    expect(events.some((event) => event.type === 'circuit-open')).toBe(false);
  });

  it('works with no budget configured', async () => {
    const { guard } = guardWith({ policies: [failover] });
    guard.circuits.open('openai', 'gpt-4o');
    expect((await guard.admit(chat('gpt-4o-2024-08-06', 50))).model).toBe('gpt-4o-mini');
    // Models the rule does not map are refused as before.
    guard.circuits.open('openai', 'gpt-4.1');
    await expect(guard.admit(chat('gpt-4.1', 50))).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('refuses with CircuitOpenError when the substitute circuit is open too', async () => {
    const { guard, events } = guardWith({ policies: [failover] });
    guard.circuits.open('openai', 'gpt-4o');
    guard.circuits.open('openai', 'gpt-4o-mini');
    const error = await guard.admit(chat('gpt-4o', 50)).catch((caught: unknown) => caught);
    expect(CircuitOpenError.isInstance(error)).toBe(true);
    expect((error as CircuitOpenError).circuitKey).toBe('openai:gpt-4o-mini');
    expect(events.filter((event) => event.type === 'circuit-open')).toEqual([
      expect.objectContaining({ model: 'gpt-4o-mini' }),
    ]);
    expect(events.some((event) => event.type === 'model-fallback')).toBe(false);
  });

  it('leaves a budget-only fallback rule as it was: an open circuit still refuses', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'calls', limit: { requests: 10 }, window: 'day' }],
      policies: [{ ...failover, when: { budget: 'calls', usedAbove: 0 } }],
    });
    guard.circuits.open('openai', 'gpt-4o');
    await expect(guard.admit(chat('gpt-4o', 50))).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('fires a rule with both triggers on either, naming which one fired', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'calls', limit: { requests: 10 }, window: 'day' }],
      policies: [{ ...failover, when: { budget: 'calls', usedAbove: 0.5, circuitOpen: true } }],
    });
    expect((await guard.admit(chat('gpt-4o', 50))).model).toBe('gpt-4o'); // 1 of 10 reserved
    guard.circuits.open('openai', 'gpt-4o');
    expect((await guard.admit(chat('gpt-4o', 50))).model).toBe('gpt-4o-mini');
    guard.circuits.close('openai', 'gpt-4o');
    for (let i = 0; i < 4; i++) await guard.admit(chat('gpt-4o-mini', 50)); // 6 of 10
    expect((await guard.admit(chat('gpt-4o', 50))).model).toBe('gpt-4o-mini');
    const fallbacks = events.filter((event) => event.type === 'model-fallback');
    expect(fallbacks.map((event) => event.trigger)).toEqual(['circuit-open', 'budget']);
    expect(fallbacks[0]).toMatchObject({ budgetId: 'calls', usedRatio: 0.1 });
    expect(fallbacks[1]).toMatchObject({ budgetId: 'calls', usedRatio: 0.6 });
  });

  it('keeps rule order: an earlier reject rule still refuses while the circuit is open', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'calls', limit: { requests: 10 }, window: 'day' }],
      policies: [
        {
          id: 'no-experiments',
          when: { budget: 'calls', usedAbove: 0 },
          action: 'reject',
          match: { feature: 'lab' },
        },
        failover,
      ],
    });
    await guard.admit(chat('gpt-4o-mini', 50));
    guard.circuits.open('openai', 'gpt-4o');
    await expect(guard.admit(chat('gpt-4o', 50), { scope: { feature: 'lab' } })).rejects.toMatchObject({
      name: 'PolicyRejectedError',
      ruleId: 'no-experiments',
    });
    expect((await guard.admit(chat('gpt-4o', 50))).model).toBe('gpt-4o-mini');
  });
});

describe('fallback and a half-open circuit', () => {
  it('sends the probe to the source model and the calls it cannot take to the substitute', async () => {
    const { guard } = guardWith({ circuitBreakers: [breaker], policies: [failover] });
    await tripGpt4o(guard);
    expect((await guard.admit(chat('gpt-4o', 50))).model).toBe('gpt-4o-mini'); // still open
    await new Promise((resolve) => setTimeout(resolve, 40));
    const probe = await guard.admit(chat('gpt-4o', 50));
    expect(probe.model).toBe('gpt-4o');
    expect((await guard.admit(chat('gpt-4o', 50))).model).toBe('gpt-4o-mini'); // probe in flight
    await probe.settle({ inputTokens: 10, outputTokens: 5 });
    expect(guard.circuits.states()).toContainEqual(
      expect.objectContaining({ model: 'gpt-4o', state: 'closed' }),
    );
    expect((await guard.admit(chat('gpt-4o', 50))).model).toBe('gpt-4o');
  });

  it('hands the probe slot back when a budget trigger moves the probe call to the substitute', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'per-tenant', limit: { requests: 2 }, window: 'day', per: ['tenant'] }],
      circuitBreakers: [breaker],
      policies: [{ ...failover, when: { budget: 'per-tenant', usedAbove: 0.4, circuitOpen: true } }],
    });
    await tripGpt4o(guard); // tenant-less: its own budget instance
    await guard.admit(chat('gpt-4o-mini', 50), { scope: { tenant: 'busy' } }); // busy: 1 of 2
    await new Promise((resolve) => setTimeout(resolve, 40));
    const busy = await guard.admit(chat('gpt-4o', 50), { scope: { tenant: 'busy' } });
    expect(busy.model).toBe('gpt-4o-mini');
    // Had the slot been kept, this call would find the probe taken and fall back too.
    const quiet = await guard.admit(chat('gpt-4o', 50), { scope: { tenant: 'quiet' } });
    expect(quiet.model).toBe('gpt-4o');
    expect(guard.circuits.states()).toContainEqual(
      expect.objectContaining({ model: 'gpt-4o', state: 'half-open' }),
    );
  });
});

describe('circuitOpen in configuration', () => {
  function configError(config: GuardConfig): TollgateConfigError {
    try {
      createGuard(config);
    } catch (error) {
      if (TollgateConfigError.isInstance(error)) return error;
      throw error;
    }
    throw new Error('createGuard accepted the configuration');
  }
  const budgets = [{ id: 'daily', limit: { usd: 10 }, window: 'day' as const }];

  it('names the field of a bad value', () => {
    const error = configError({
      policies: [{ ...failover, when: { circuitOpen: 'yes' as unknown as true } }],
    });
    expect(error.message).toContain('policies[0].when.circuitOpen');
  });

  it('is only for fallback rules', () => {
    const error = configError({
      budgets,
      policies: [
        { id: 'r', when: { budget: 'daily', usedAbove: 0.5, circuitOpen: true }, action: 'reject' } as never,
      ],
    });
    expect(error.message).toContain('policies[0].when.circuitOpen');
  });

  it('needs a budget trigger when the circuit trigger is absent or false', () => {
    expect(
      configError({ policies: [{ ...failover, when: { circuitOpen: false } as never }] }).message,
    ).toContain('policies[0].when.budget');
    expect(
      configError({
        budgets,
        policies: [{ ...failover, when: { circuitOpen: true, usedAbove: 0.5 } as never }],
      }).message,
    ).toContain('policies[0].when.budget');
  });
});
