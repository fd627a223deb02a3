import { afterEach, describe, expect, it } from 'vitest';
import type {
  LedgerLine,
  LineState,
  ReserveRequest,
  ReserveResult,
  SettleResult,
} from '../budgets/budget-ledger';
import { MemoryLedger } from '../budgets/memory-ledger';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { PolicyRejectedError } from '../errors/policy-rejected-error';
import { RateLimitedError } from '../errors/rate-limited-error';
import { withScope } from '../scope/with-scope';
import { chat, closeGuards, guardWith } from './test-support';

afterEach(closeGuards);

/** The memory ledger, noting each operation an admission asks of it. */
class CountingLedger extends MemoryLedger {
  readonly calls: string[] = [];

  override async peek(lines: readonly LedgerLine[]): Promise<LineState[]> {
    this.calls.push('peek');
    return super.peek(lines);
  }

  override async reserve(request: ReserveRequest): Promise<ReserveResult> {
    this.calls.push(request.unlessUsedAbove ? 'reserve unless used above' : 'reserve');
    return super.reserve(request);
  }

  override async release(reservationId: string): Promise<SettleResult> {
    this.calls.push('release');
    return super.release(reservationId);
  }
}

const requests = (limit: number) => ({ id: 'calls', limit: { requests: limit }, window: 'day' as const });

describe('the budget step of an admission', () => {
  it('is one ledger operation, the reservation, with no read before it', async () => {
    const ledger = new CountingLedger();
    const { guard } = guardWith({
      ledger,
      budgets: [requests(10), { id: 'usd', per: ['tenant'], limit: { usd: 5 }, window: 'month' }],
      rateLimits: [{ provider: 'openai', rpm: 600 }],
    });
    const admission = await withScope({ tenant: 't1' }, () => guard.admit(chat('gpt-4o-mini', 10)));
    expect(ledger.calls).toEqual(['reserve']);
    expect(admission.budgets.map((budget) => budget.budgetId)).toEqual(['calls', 'usd']);
    await admission.settle({ inputTokens: 1, outputTokens: 1 });
  });

  it('stops where a rule would act, and the rules decide on the states that operation read', async () => {
    const ledger = new CountingLedger();
    const { guard } = guardWith({
      ledger,
      budgets: [requests(10)],
      policies: [
        {
          id: 'no-search',
          when: { budget: 'calls', usedAbove: 0.5 },
          action: 'reject',
          match: { feature: 'search' },
        },
        {
          id: 'cheaper',
          when: { budget: 'calls', usedAbove: 0.6 },
          action: 'fallback',
          models: { 'gpt-4o': 'gpt-4o-mini' },
        },
      ],
    });
    for (let i = 0; i < 6; i++) await guard.run(chat('gpt-4o-mini', 10), async () => 'ok');
    ledger.calls.length = 0;
    const rejected = await withScope({ feature: 'search' }, () => guard.admit(chat('gpt-4o-mini', 10))).catch(
      (error: unknown) => error,
    );
    expect(PolicyRejectedError.isInstance(rejected)).toBe(true);
    expect(ledger.calls).toEqual(['reserve unless used above']);
    expect((await guard.budgetStatus('calls'))[0]).toMatchObject({ spent: 6, reserved: 0 });

    // A call no rule can act on is reserved at once, whatever the budget's use.
    ledger.calls.length = 0;
    const other = await guard.admit(chat('gpt-4o-mini', 10));
    expect(ledger.calls).toEqual(['reserve']);
    await other.settle(undefined);

    // Past the fallback's ratio: the stop, then the reservation at the cheaper model.
    ledger.calls.length = 0;
    const moved = await guard.admit(chat('gpt-4o', 10));
    expect(moved.model).toBe('gpt-4o-mini');
    expect(ledger.calls).toEqual(['reserve unless used above', 'reserve']);
    expect((await guard.budgetStatus('calls'))[0]).toMatchObject({ spent: 7, reserved: 1 });
    await moved.settle(undefined);
  });

  it('takes no rate-limit capacity for a call the budget refuses', async () => {
    const { guard } = guardWith({
      budgets: [requests(1)],
      rateLimits: [{ provider: 'openai', rpm: 60, burstRequests: 2, maxWaitMillis: 5_000 }],
    });
    const first = await guard.admit(chat('gpt-4o-mini', 10));
    await expect(guard.admit(chat('gpt-4o-mini', 10))).rejects.toThrow(BudgetExceededError);
    await first.release('not sent');
    // The second of the two permits is still there: no wait for the next one (a second away).
    const started = Date.now();
    const third = await guard.admit(chat('gpt-4o-mini', 10));
    expect(Date.now() - started).toBeLessThan(500);
    await third.settle(undefined);
  });

  it('hands the reservation back when the rate-limit wait ends without capacity', async () => {
    const ledger = new CountingLedger();
    const { guard } = guardWith({
      ledger,
      budgets: [requests(10)],
      rateLimits: [{ provider: 'openai', rpm: 6, burstRequests: 1, maxWaitMillis: 150 }],
    });
    const first = await guard.admit(chat('gpt-4o-mini', 10));
    const timedOut = await guard.admit(chat('gpt-4o-mini', 10)).catch((error: unknown) => error);
    expect(RateLimitedError.isInstance(timedOut)).toBe(true);
    const controller = new AbortController();
    const aborted = guard.admit(chat('gpt-4o-mini', 10), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(aborted).rejects.toThrow();
    expect(ledger.calls).toEqual(['reserve', 'reserve', 'release', 'reserve', 'release']);
    expect((await guard.budgetStatus('calls'))[0]).toMatchObject({ spent: 0, reserved: 1 });
    expect(ledger.openReservations()).toBe(1);
    await first.settle(undefined);
  });
});
