import { describe, expect, it } from 'vitest';
import { BudgetInstances } from './budget-instances';
import type { LineState } from './budget-ledger';
import type { PlannedLine } from './budget-plan';

function line(tenant: string): PlannedLine {
  return {
    budgetId: 'daily',
    unit: 'tokens',
    scope: { tenant },
    instanceKey: `daily|tokens|tenant=${tenant}`,
    windowStartMs: 0,
    line: {
      key: `daily|tokens|tenant=${tenant}|0`,
      limit: 100,
      amount: 1,
      window: { kind: 'calendar', startMs: 0, endMs: 10_000 },
      thresholds: [],
    },
  };
}

function state(spent: number): LineState {
  return { key: 'k', limit: 100, spent, reserved: 0, resetAtMs: 10_000 };
}

describe('BudgetInstances', () => {
  it('keeps the latest state of each instance', () => {
    const instances = new BudgetInstances();
    instances.record([line('a')], [state(1)]);
    instances.record([line('a')], [state(7)]);
    expect(instances.snapshot(0)).toEqual([
      {
        budgetId: 'daily',
        unit: 'tokens',
        scope: { tenant: 'a' },
        limit: 100,
        spent: 7,
        reserved: 0,
        resetAtMs: 10_000,
      },
    ]);
  });

  it('forgets the instance seen longest ago once it holds maxInstances', () => {
    const instances = new BudgetInstances(2);
    instances.record([line('a')], [state(1)]);
    instances.record([line('b')], [state(1)]);
    instances.record([line('a')], [state(2)]); // a is now the most recent
    instances.record([line('c')], [state(1)]);
    expect(instances.snapshot(0).map((instance) => instance.scope.tenant)).toEqual(['a', 'c']);
  });

  it('reads an ended calendar window as empty', () => {
    const instances = new BudgetInstances();
    instances.record([line('a')], [state(5)]);
    expect(instances.snapshot(10_000)[0]?.spent).toBe(0);
  });
});
