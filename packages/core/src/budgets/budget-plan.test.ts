import { describe, expect, it } from 'vitest';
import { normalizeBudgets } from '../config/normalize-budgets';
import { BudgetPlan, type BudgetSubject } from './budget-plan';
import { counterKey } from './counter-key';

const budgets = normalizeBudgets([
  { id: 'daily-usd', limit: { usd: 10 }, window: 'day', timeZone: 'UTC' },
  { id: 'tenant-tokens', per: ['tenant'], limit: { tokens: 1_000, requests: 50 }, window: 'month' },
  { id: 'hourly', per: ['tenant', 'model'], limit: { tokens: 500 }, window: { rollingMillis: 3_600_000 } },
]);
const amounts = { usd: 1_000, tokens: 40, requests: 1 };
const day = Date.UTC(2026, 11, 5, 12);

function subject(tenant?: string): BudgetSubject {
  return { provider: 'openai', model: 'gpt-4o-mini', scope: tenant === undefined ? {} : { tenant } };
}

describe('BudgetPlan.lines', () => {
  it('builds each instance its own keys and scope, the same as built from scratch', () => {
    const plan = new BudgetPlan(budgets);
    for (const tenant of ['acme', 'globex', 'acme', undefined]) {
      for (const planned of plan.lines(budgets, subject(tenant), amounts, day)) {
        expect(planned.instanceKey).toBe(
          counterKey(planned.budgetId, planned.unit, planned.scope, undefined),
        );
        if (planned.budgetId !== 'daily-usd') expect(planned.scope.tenant).toBe(tenant ?? '(none)');
        if (planned.budgetId === 'hourly') expect(planned.scope.model).toBe('gpt-4o-mini');
      }
    }
    const [acme, globex] = ['acme', 'globex'].map((tenant) =>
      plan.lines(budgets, subject(tenant), amounts, day).map((planned) => planned.line.key),
    );
    expect(acme![0]).toBe(globex![0]); // the unsplit budget is one instance
    expect(acme!.slice(1)).not.toEqual(globex!.slice(1));
    expect(acme).toHaveLength(4); // usd, tokens + requests, hourly tokens
  });

  it('shares one frozen scope per instance, so no call can change another call’s', () => {
    const plan = new BudgetPlan(budgets);
    const first = plan.lines(budgets, subject('acme'), amounts, day)[1]!;
    const second = plan.lines(budgets, subject('acme'), amounts, day)[1]!;
    expect(second.scope).toBe(first.scope);
    expect(Object.isFrozen(first.scope)).toBe(true);
  });

  it('moves a calendar budget to the next window, key and bounds together', () => {
    const plan = new BudgetPlan(budgets);
    const today = plan.lines(budgets, subject('acme'), amounts, day)[0]!;
    const tomorrow = plan.lines(budgets, subject('acme'), amounts, day + 86_400_000)[0]!;
    expect(today.line.window).toEqual({
      kind: 'calendar',
      startMs: Date.UTC(2026, 11, 5),
      endMs: Date.UTC(2026, 11, 6),
    });
    expect(tomorrow.line.window).toEqual({
      kind: 'calendar',
      startMs: Date.UTC(2026, 11, 6),
      endMs: Date.UTC(2026, 11, 7),
    });
    expect(tomorrow.line.key).toBe(`${tomorrow.instanceKey}|${Date.UTC(2026, 11, 6)}`);
    expect(tomorrow.windowStartMs).toBe(Date.UTC(2026, 11, 6));
  });

  it('keeps keys right past the number of instances it remembers', () => {
    const plan = new BudgetPlan(budgets);
    for (let tenant = 0; tenant < 10_050; tenant++) {
      const planned = plan.lines(budgets, subject(`t${tenant}`), amounts, day)[1]!;
      expect(planned.scope.tenant).toBe(`t${tenant}`);
    }
    const again = plan.lines(budgets, subject('t3'), amounts, day)[1]!;
    expect(again.instanceKey).toBe(counterKey('tenant-tokens', 'tokens', { tenant: 't3' }, undefined));
  });
});
