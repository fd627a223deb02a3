import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryLedger } from '../budgets/memory-ledger';
import type { GuardConfig } from '../config/guard-config';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { TollgateConfigError } from '../errors/config-error';
import { RateLimitedError } from '../errors/rate-limited-error';
import { UnknownModelPriceError } from '../errors/unknown-model-price-error';
import { withScope } from '../scope/with-scope';
import { createGuard } from './guard';
import { chat, closeGuards, guards, guardWith } from './test-support';

afterEach(closeGuards);

const usage = (inputTokens: number, outputTokens: number) => ({ inputTokens, outputTokens });

describe('createGuard', () => {
  it('rejects a call that would exceed a budget before running it', async () => {
    const { guard, events } = guardWith({ budgets: [{ id: 'tiny', limit: { usd: 0.001 }, window: 'day' }] });
    const send = vi.fn(async () => 'response');
    // gpt-4o output at $10/1M: 1,000 max tokens alone is $0.01, ten times the budget.
    const error = await withScope({ tenant: 't1' }, () => guard.run(chat('gpt-4o', 1_000), send)).catch(
      (caught: unknown) => caught,
    );
    expect(send).not.toHaveBeenCalled();
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    const exceeded = error as BudgetExceededError;
    expect(exceeded).toMatchObject({ budgetId: 'tiny', unit: 'usd', limit: 0.001, spent: 0, reserved: 0 });
    expect(exceeded.requested).toBeGreaterThan(0.01);
    expect(events.map((event) => event.type)).toEqual(['budget-exceeded']);
    expect(events[0]).toMatchObject({
      costLabel: 'estimate',
      model: 'gpt-4o',
      pricedModel: 'gpt-4o',
      maxOutputTokens: 1_000,
    });
    // The call's attribution and the (global) budget instance's scope are reported apart.
    expect(events[0]).toMatchObject({ scope: { tenant: 't1' }, budgetScope: {} });
  });

  it('reserves the worst case, then settles to actual usage and frees the difference', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'day', limit: { usd: 1, tokens: 100_000, requests: 10 }, window: 'day' }],
    });
    const admission = await guard.admit(chat('gpt-4o-mini', 2_000));
    const during = await guard.budgetStatus('day');
    expect(during.find((status) => status.unit === 'tokens')!.reserved).toBe(
      admission.estimate.worstCaseTokens,
    );
    expect(during.find((status) => status.unit === 'requests')!.reserved).toBe(1);

    const settlement = await admission.settle(usage(30, 12));
    const after = await guard.budgetStatus('day');
    const usd = after.find((status) => status.unit === 'usd')!;
    expect(usd.reserved).toBe(0);
    // gpt-4o-mini: $0.15 in / $0.60 out per 1M tokens.
    expect(usd.spent).toBeCloseTo((30 * 0.15 + 12 * 0.6) / 1e6, 9);
    expect(after.find((status) => status.unit === 'tokens')).toMatchObject({ spent: 42, reserved: 0 });
    expect(settlement).toMatchObject({ usageSource: 'provider', applied: true });
    expect(settlement.costDeltaUsd).toBeLessThan(0);
    const settled = events.find((event) => event.type === 'settled');
    expect(settled).toMatchObject({
      usage: { inputTokens: 30, outputTokens: 12 },
      usageSource: 'provider',
      costLabel: 'estimate',
    });
  });

  it('charges the full reservation when the provider reports no usage', async () => {
    const { guard } = guardWith({ budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }] });
    const admission = await guard.admit(chat('gpt-4o-mini', 500));
    const settlement = await admission.settle(undefined);
    expect(settlement.usageSource).toBe('reservation');
    const [status] = await guard.budgetStatus('day');
    expect(status).toMatchObject({ spent: admission.estimate.worstCaseTokens, reserved: 0 });
  });

  it('reads a per-model budget under the name admission charges, and asks for the model when missing', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'per-model', per: ['model'], limit: { requests: 5 }, window: 'day' }],
    });
    await guard.run(chat('gpt-4o-mini', 100), async () => undefined);
    // Any spelling the price table knows reads the same instance the call was charged to.
    expect((await guard.budgetStatus('per-model', { model: 'GPT-4o-mini' }))[0]).toMatchObject({ spent: 1 });
    await expect(guard.budgetStatus('per-model')).rejects.toThrow(TollgateConfigError);
    await expect(guard.budgetStatus('per-model')).rejects.toThrow(/split by model/);
  });

  it('settles exactly once; release after settle changes nothing', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }],
    });
    const admission = await guard.admit(chat('gpt-4o-mini', 500));
    await Promise.all([
      admission.settle(usage(10, 10)),
      admission.settle(usage(10, 10)),
      admission.release('late'),
    ]);
    expect(events.filter((event) => event.type === 'settled' || event.type === 'released')).toHaveLength(1);
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({ spent: 20, reserved: 0 });
  });

  it('releases the reservation when the wrapped call throws', async () => {
    const { guard, events } = guardWith({ budgets: [{ id: 'day', limit: { requests: 5 }, window: 'day' }] });
    await expect(
      guard.run(chat('gpt-4o-mini', 100), async () => {
        throw new Error('connection refused');
      }),
    ).rejects.toThrow('connection refused');
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({ spent: 0, reserved: 0 });
    expect(events.at(-1)).toMatchObject({ type: 'released', reason: 'call failed: connection refused' });
  });

  it('expires an abandoned reservation after its lease and frees its limiter slot', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'day', limit: { requests: 1 }, window: 'day' }],
      rateLimits: [{ provider: 'openai', maxConcurrent: 1, maxWaitMillis: 0 }],
      leaseMillis: 1_000,
      leaseExpiry: 'release',
    });
    await guard.admit(chat('gpt-4o-mini', 100)); // never settled: a hung or crashed caller
    await expect(guard.admit(chat('gpt-4o-mini', 100))).rejects.toThrow(BudgetExceededError);
    await vi.waitFor(() => expect(events.some((event) => event.type === 'lease-expired')).toBe(true), {
      timeout: 3_000,
    });
    const next = await guard.admit(chat('gpt-4o-mini', 100));
    expect(next.waitMillis).toBeLessThan(100);
    expect(events.find((event) => event.type === 'lease-expired')).toMatchObject({
      policy: 'release',
      budgets: [{ budgetId: 'day', reserved: 0 }],
    });
  });

  it('never overshoots a small budget under hundreds of concurrent admissions of random sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            maxTokens: fc.integer({ min: 1, max: 4_000 }),
            used: fc.double({ min: 0, max: 1, noNaN: true }),
            fails: fc.boolean(),
          }),
          { minLength: 100, maxLength: 300 },
        ),
        async (calls) => {
          const limitUsd = 0.02;
          const { guard } = guardWith({
            budgets: [{ id: 'small', limit: { usd: limitUsd }, window: 'hour' }],
          });
          let peak = 0;
          const outcomes = await Promise.all(
            calls.map(async (call) => {
              try {
                return await guard.run(
                  chat('gpt-4o', call.maxTokens),
                  async () => {
                    const [status] = await guard.budgetStatus('small');
                    peak = Math.max(peak, status!.spent + status!.reserved);
                    await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
                    if (call.fails) throw new Error('provider error');
                    return Math.floor(call.maxTokens * call.used);
                  },
                  { usage: (outputTokens) => usage(20, outputTokens) },
                );
              } catch (error) {
                if (BudgetExceededError.isInstance(error)) return 'rejected';
                if (error instanceof Error && error.message === 'provider error') return 'failed';
                throw error;
              }
            }),
          );
          const [status] = await guard.budgetStatus('small');
          expect(peak).toBeLessThanOrEqual(limitUsd + 1e-12);
          expect(status!.spent).toBeLessThanOrEqual(limitUsd + 1e-12);
          expect(status!.reserved).toBe(0);
          expect(outcomes).toContain('rejected');
          await guards.pop()!.close();
        },
      ),
      { numRuns: 15 },
    );
  }, 60_000);

  it('keeps per-tenant budget instances apart, attributed through withScope', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'per-tenant', per: ['tenant'], limit: { requests: 2 }, window: 'day' }],
    });
    const callAs = (tenant: string) =>
      withScope({ tenant }, () => guard.run(chat('gpt-4o-mini', 10), async () => 'ok'));
    await callAs('acme');
    await callAs('acme');
    const error = (await callAs('acme').catch((caught: unknown) => caught)) as BudgetExceededError;
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.scope).toEqual({ tenant: 'acme' });
    await expect(callAs('globex')).resolves.toBe('ok');
    // Per-call options override the ambient scope.
    await expect(
      withScope({ tenant: 'acme' }, () =>
        guard.run(chat('gpt-4o-mini', 10), async () => 'ok', { scope: { tenant: 'initech' } }),
      ),
    ).resolves.toBe('ok');
  });

  it('applies a budget only to the calls its match selects', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'search', match: { feature: 'search' }, limit: { requests: 1 }, window: 'day' }],
    });
    await withScope({ feature: 'search' }, () => guard.run(chat('gpt-4o-mini', 10), async () => 'ok'));
    await expect(
      withScope({ feature: 'search' }, () => guard.run(chat('gpt-4o-mini', 10), async () => 'ok')),
    ).rejects.toThrow(BudgetExceededError);
    await expect(
      withScope({ feature: 'chat' }, () => guard.run(chat('gpt-4o-mini', 10), async () => 'ok')),
    ).resolves.toBe('ok');
  });

  it('starts a fresh budget when the calendar window rolls over in its time zone', async () => {
    let now = Date.parse('2026-03-28T22:59:00Z'); // 23:59 in Berlin, the evening before the DST change
    const ledger = new MemoryLedger({ clock: () => now });
    const { guard } = guardWith({
      ledger,
      budgets: [{ id: 'berlin-day', limit: { requests: 1 }, window: 'day', timeZone: 'Europe/Berlin' }],
    });
    await guard.run(chat('gpt-4o-mini', 10), async () => 'ok');
    await expect(guard.run(chat('gpt-4o-mini', 10), async () => 'ok')).rejects.toMatchObject({
      resetAtMs: Date.parse('2026-03-28T23:00:00Z'),
    });
    now = Date.parse('2026-03-28T23:00:00Z'); // local midnight
    await expect(guard.run(chat('gpt-4o-mini', 10), async () => 'ok')).resolves.toBe('ok');
    const [status] = await guard.budgetStatus('berlin-day');
    expect(status!.resetAtMs - now).toBe(23 * 3_600_000); // the short DST day
  });

  it('rejects calls to an unpriced model when a USD budget applies, and only then', async () => {
    const usd = guardWith({ budgets: [{ id: 'usd', limit: { usd: 5 }, window: 'day' }] });
    const send = vi.fn(async () => 'ok');
    await expect(usd.guard.run(chat('my-finetune-x', 10), send)).rejects.toThrow(UnknownModelPriceError);
    expect(send).not.toHaveBeenCalled();
    expect(usd.events.map((event) => event.type)).toEqual(['unpriced-model']);

    const tokens = guardWith({ budgets: [{ id: 'tokens', limit: { tokens: 10_000 }, window: 'day' }] });
    await expect(tokens.guard.run(chat('my-finetune-x', 10), send)).resolves.toBe('ok');

    const fallback = guardWith({
      unknownModel: { fallback: { input: 100, output: 100 } },
      budgets: [{ id: 'usd', limit: { usd: 5 }, window: 'day' }],
    });
    const admission = await fallback.guard.admit(chat('my-finetune-x', 10));
    expect(admission.estimate.priceSource).toBe('fallback');
    await admission.settle(usage(1_000, 1_000));
    expect((await fallback.guard.budgetStatus('usd'))[0]!.spent).toBeCloseTo(0.2, 9);
  });

  it('rejects at once a call whose weight can never fit the TPM bucket, without touching budgets', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'day', limit: { requests: 10 }, window: 'day' }],
      rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', tpm: 1_000 }],
    });
    const started = Date.now();
    const error = (await guard
      .admit(chat('gpt-4o-mini', 5_000))
      .catch((caught: unknown) => caught)) as RateLimitedError;
    expect(error.reason).toBe('weight-exceeds-capacity');
    expect(Date.now() - started).toBeLessThan(100);
    expect(events.map((event) => event.type)).toEqual(['rate-limited']);
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({ spent: 0, reserved: 0 });
  });

  it('throttles a burst above RPM and rejects what cannot start within maxWaitMillis', async () => {
    const { guard, events } = guardWith({
      rateLimits: [
        { provider: 'openai', model: 'gpt-4o-mini', rpm: 600, burstRequests: 3, maxWaitMillis: 450 },
      ],
    });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => guard.run(chat('gpt-4o-mini', 10), async () => 'ok')),
    );
    const allowed = results.filter((result) => result.status === 'fulfilled').length;
    const limited = results.filter(
      (result) => result.status === 'rejected' && RateLimitedError.isInstance(result.reason),
    );
    // 3 at once, then 10 per second for 0.45 s: about 7 in all.
    expect(allowed).toBeGreaterThanOrEqual(5);
    expect(allowed).toBeLessThanOrEqual(8);
    expect(limited.length).toBe(12 - allowed);
    expect(events.some((event) => event.type === 'throttled')).toBe(true);
    const rejection = events.find((event) => event.type === 'rate-limited');
    expect(rejection).toMatchObject({ reason: 'max-wait-exceeded', limiterKey: 'openai:gpt-4o-mini' });
  });

  it('does not queue for rate-limit capacity when the budget is already exhausted', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'day', limit: { requests: 1 }, window: 'day' }],
      rateLimits: [{ provider: 'openai', rpm: 60, burstRequests: 1, maxWaitMillis: 5_000 }],
    });
    await guard.run(chat('gpt-4o-mini', 10), async () => 'ok');
    const started = Date.now();
    await expect(guard.admit(chat('gpt-4o-mini', 10))).rejects.toThrow(BudgetExceededError);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('fires each alert threshold once per window, even under concurrent settles', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'alerts', limit: { requests: 40 }, window: 'day', alertAt: [0.5, 0.8, 1] }],
    });
    await Promise.allSettled(
      Array.from({ length: 60 }, () => guard.run(chat('gpt-4o-mini', 10), async () => 'ok')),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const crossed = events.filter((event) => event.type === 'threshold-crossed');
    // The 41st call is refused while 40 are in flight: 100 % fires at that refusal, before the settles.
    expect(crossed.map((event) => event.threshold).sort()).toEqual([0.5, 0.8, 1]);
    expect(crossed.find((event) => event.threshold === 0.5)).toMatchObject({
      budgetId: 'alerts',
      unit: 'requests',
      limit: 40,
      spent: 20,
    });
  });

  it('fires the 100 % threshold at the first refusal for lack of room, below 100 % settled', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'usd', limit: { usd: 0.0006 }, window: 'day', timeZone: 'UTC', alertAt: [0.5, 1] }],
    });
    let refusals = 0;
    for (let i = 0; i < 12; i++) {
      await guard
        .run(chat('gpt-4o', 40), async () => 'ok')
        .catch((error: unknown) => {
          if (!BudgetExceededError.isInstance(error)) throw error;
          refusals++;
        });
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(refusals).toBeGreaterThan(1);
    const full = events.filter((event) => event.type === 'threshold-crossed' && event.threshold === 1);
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({ budgetId: 'usd', unit: 'usd', windowKind: 'calendar' });
    expect((full[0] as { spent: number }).spent).toBeLessThan(0.0006);
  });

  it('keeps hook failures away from the call', async () => {
    const guard = createGuard({
      budgets: [{ id: 'day', limit: { requests: 10 }, window: 'day' }],
      onDecision: [
        () => {
          throw new Error('hook bug');
        },
        async () => {
          throw new Error('async hook bug');
        },
      ],
    });
    guards.push(guard);
    await expect(guard.run(chat('gpt-4o-mini', 10), async () => 'ok')).resolves.toBe('ok');
  });

  it('refuses a guard lease policy that contradicts the ledger it is given', () => {
    const ledger = new MemoryLedger({ leaseExpiry: 'release' });
    expect(() => createGuard({ ledger, leaseExpiry: 'charge-reserved' })).toThrow(
      /leaseExpiry: differs from the ledger/,
    );
    guards.push(createGuard({ ledger, leaseExpiry: 'release' }));
  });

  it('warns through an event when the price table is older than allowed', () => {
    const { events } = guardWith({ priceTableMaxAgeDays: 0.000001 });
    expect(events[0]).toMatchObject({ type: 'price-table-stale', maxAgeDays: 0.000001 });
  });

  it('reads price additions from the file named by TOLLGATE_PRICES_FILE', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-')), 'prices.json');
    writeFileSync(
      file,
      JSON.stringify({ models: { 'house-model': { provider: 'openai', input: 1, output: 2 } } }),
    );
    vi.stubEnv('TOLLGATE_PRICES_FILE', file);
    try {
      const { guard } = guardWith({ budgets: [{ id: 'usd', limit: { usd: 1 }, window: 'day' }] });
      const admission = await guard.admit(chat('house-model', 10));
      expect(admission.estimate.pricedModel).toBe('house-model');
      await admission.settle(usage(1, 1));
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('config validation', () => {
  const cases: Array<[string, unknown, string]> = [
    ['negative limit', { budgets: [{ id: 'a', limit: { usd: -1 }, window: 'day' }] }, 'budgets[0].limit.usd'],
    [
      'fractional tokens',
      { budgets: [{ id: 'a', limit: { tokens: 1.5 }, window: 'day' }] },
      'budgets[0].limit.tokens',
    ],
    ['no unit', { budgets: [{ id: 'a', limit: {}, window: 'day' }] }, 'budgets[0].limit'],
    [
      'misspelt unit',
      { budgets: [{ id: 'a', limit: { dollars: 5 }, window: 'day' }] },
      'budgets[0].limit.dollars',
    ],
    ['bad window', { budgets: [{ id: 'a', limit: { usd: 1 }, window: 'fortnight' }] }, 'budgets[0].window'],
    [
      'short rolling window',
      { budgets: [{ id: 'a', limit: { usd: 1 }, window: { rollingMillis: 10 } }] },
      'budgets[0].window.rollingMillis',
    ],
    [
      'bad time zone',
      { budgets: [{ id: 'a', limit: { usd: 1 }, window: 'day', timeZone: 'Mars/Base' }] },
      'budgets[0].timeZone',
    ],
    [
      'duplicate id',
      {
        budgets: [
          { id: 'a', limit: { usd: 1 }, window: 'day' },
          { id: 'a', limit: { usd: 1 }, window: 'day' },
        ],
      },
      'budgets[1].id',
    ],
    [
      'bad per',
      { budgets: [{ id: 'a', limit: { usd: 1 }, window: 'day', per: ['team'] }] },
      'budgets[0].per[0]',
    ],
    [
      'bad threshold',
      { budgets: [{ id: 'a', limit: { usd: 1 }, window: 'day', alertAt: [0] }] },
      'budgets[0].alertAt[0]',
    ],
    ['empty rule', { rateLimits: [{ provider: 'openai' }] }, 'rateLimits[0]'],
    ['zero rpm', { rateLimits: [{ provider: 'openai', rpm: 0 }] }, 'rateLimits[0].rpm'],
    [
      'burst without rate',
      { rateLimits: [{ provider: 'openai', maxConcurrent: 2, burstTokens: 10 }] },
      'rateLimits[0].burstTokens',
    ],
    ['typo at top level', { budget: [] }, 'budget'],
    ['bad fallback', { unknownModel: { fallback: { input: 1 } } }, 'unknownModel.fallback'],
    ['bad lease policy', { leaseExpiry: 'forgive' }, 'leaseExpiry'],
    ['bad hook', { onDecision: 'log' }, 'onDecision'],
    [
      'bad estimator option',
      { estimator: { anthropicSafetyFactor: 0.5 } },
      'estimator.anthropicSafetyFactor',
    ],
    [
      'negative estimator byte bound',
      { estimator: { exactCountMaxBytes: -1 } },
      'estimator.exactCountMaxBytes',
    ],
    ['estimator typo', { estimator: { exactCountMaxByte: 10 } }, 'estimator.exactCountMaxByte'],
    [
      'bad price override',
      { prices: { overrides: { 'gpt-4o': { input: -3 } } } },
      'prices.overrides["gpt-4o"].input',
    ],
    [
      'two price overrides claiming one alias',
      {
        prices: {
          overrides: {
            'house-a': { input: 1, output: 2, aliases: ['house'] },
            'house-b': { input: 1, output: 2, aliases: ['house'] },
          },
        },
      },
      'prices.overrides["house-b"].aliases[0]',
    ],
  ];

  it.each(cases)('names the field for %s', (_name, config, field) => {
    let thrown: unknown;
    try {
      guards.push(createGuard(config as GuardConfig));
    } catch (error) {
      thrown = error;
    }
    expect(TollgateConfigError.isInstance(thrown)).toBe(true);
    expect((thrown as TollgateConfigError).field).toBe(field);
    expect((thrown as Error).message).toContain(field);
  });
});
