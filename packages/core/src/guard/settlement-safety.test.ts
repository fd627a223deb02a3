import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLedger } from '../budgets/memory-ledger';
import type { GuardConfig } from '../config/guard-config';
import { TollgateConfigError } from '../errors/config-error';
import type { TokenUsage } from '../pricing/token-usage';
import { createGuard } from './guard';
import { chat as chatCall, closeGuards, guards, guardWith } from './test-support';

afterEach(closeGuards);

const chat = chatCall('gpt-4o-mini', 100, 'Hello');

describe('settling usage the provider reported badly', () => {
  it.each<[string, TokenUsage, { tokens: number } | 'worst-case']>([
    ['fractional', { inputTokens: 10.5, outputTokens: 3.2 }, { tokens: 11 + 4 }],
    ['huge', { inputTokens: 1e308, outputTokens: 5 }, { tokens: 100_000_000 + 5 }],
    ['infinite', { inputTokens: 7, outputTokens: Number.POSITIVE_INFINITY }, { tokens: 7 + 100_000_000 }],
    ['negative', { inputTokens: -4, outputTokens: -1 }, 'worst-case'],
    ['NaN', { inputTokens: Number.NaN, outputTokens: Number.NaN }, 'worst-case'],
  ])(
    'settles %s counts to exact integers and leaves no reservation behind',
    async (_name, usage, expected) => {
      const ledger = new MemoryLedger();
      const { guard, events } = guardWith({
        ledger,
        budgets: [{ id: 'day', limit: { usd: 1_000, tokens: Number.MAX_SAFE_INTEGER }, window: 'day' }],
      });
      const admission = await guard.admit(chat);
      const settlement = await admission.settle(usage);
      expect(settlement.applied).toBe(true);
      expect(Number.isFinite(settlement.actualCostUsd)).toBe(true);
      expect(ledger.openReservations()).toBe(0);
      const [usd, tokens] = await guard.budgetStatus('day');
      expect(usd!.reserved).toBe(0);
      expect(tokens!.reserved).toBe(0);
      expect(Number.isSafeInteger(tokens!.spent)).toBe(true);
      expect(tokens!.spent).toBe(
        expected === 'worst-case' ? admission.estimate.worstCaseTokens : expected.tokens,
      );
      expect(events.at(-1)).toMatchObject({ type: 'settled', applied: true });
    },
  );
});

/** A real memory ledger whose store "goes away" for settlements. */
class LedgerThatCannotSettle extends MemoryLedger {
  override async settle(): Promise<never> {
    throw new Error('store unreachable');
  }
}

describe('a settlement the ledger fails', () => {
  it('is reported (event and result), never thrown, and the lease still ends the reservation', async () => {
    let nowMs = Date.now();
    const ledger = new LedgerThatCannotSettle({ clock: () => nowMs });
    const { guard, events } = guardWith({
      ledger,
      leaseMillis: 1_000,
      budgets: [{ id: 'day', limit: { tokens: 10_000 }, window: 'day' }],
    });
    const admission = await guard.admit(chat);
    const settlement = await admission.settle({ inputTokens: 9, outputTokens: 20 });
    expect(settlement.applied).toBe(false);
    expect(events.find((event) => event.type === 'settle-failed')).toMatchObject({
      callId: admission.callId,
      reservationId: admission.callId,
      operation: 'settle',
      usage: { inputTokens: 9, outputTokens: 20 },
      error: 'store unreachable',
      leaseExpiry: 'charge-reserved',
    });
    // Still held, not lost: the lease ends it under the expiry policy, naming the call.
    expect((await guard.budgetStatus('day'))[0]!.reserved).toBe(admission.estimate.worstCaseTokens);
    nowMs += 1_500;
    await expect
      .poll(() => events.find((event) => event.type === 'lease-expired'), { timeout: 3_000 })
      .toMatchObject({ callId: admission.callId, policy: 'charge-reserved' });
    expect(ledger.openReservations()).toBe(0);
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({
      reserved: 0,
      spent: admission.estimate.worstCaseTokens,
    });
  });
});

describe('fallback rule targets', () => {
  const usdBudget = { id: 'monthly', limit: { usd: 100 }, window: 'month' as const };
  const typo = {
    id: 'cheaper',
    when: { budget: 'monthly', usedAbove: 0.8 },
    action: 'fallback' as const,
    models: { 'gpt-4o': 'gpt-4o-mni' },
  };

  it('are refused at createGuard() when unpriced under a USD budget, naming the field', () => {
    const attempt = () => createGuard({ budgets: [usdBudget], policies: [typo] });
    expect(attempt).toThrow(TollgateConfigError);
    expect(attempt).toThrow(/policies\[0\]\.models\.gpt-4o: names model "gpt-4o-mni", which has no price/);
    try {
      attempt();
    } catch (error) {
      expect((error as TollgateConfigError).field).toBe('policies[0].models.gpt-4o');
    }
  });

  it('are accepted when priced, by override or fallback price, or when no USD budget applies', () => {
    const accepted = [
      { budgets: [usdBudget], policies: [{ ...typo, models: { 'gpt-4o': 'gpt-4o-mini' } }] },
      {
        budgets: [usdBudget],
        policies: [typo],
        prices: {
          overrides: {
            'gpt-4o-mni': { provider: 'openai', input: 0.1, output: 0.4, maxOutputTokens: 1_000 },
          },
        },
      },
      { budgets: [usdBudget], policies: [typo], unknownModel: { fallback: { input: 1, output: 2 } } },
      {
        budgets: [{ ...usdBudget, limit: { tokens: 1_000_000 } }],
        policies: [typo],
      },
      {
        budgets: [
          { ...usdBudget, limit: { tokens: 1_000_000 } },
          { ...usdBudget, id: 'o1', match: { model: 'o1' } },
        ],
        policies: [typo],
      },
    ] satisfies GuardConfig[];
    for (const config of accepted) guards.push(createGuard(config));
  });
});
