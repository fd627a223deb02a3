import type { BudgetUnit } from '../budgets/budget-config';
import type { LineState } from '../budgets/budget-ledger';
import type { ScopeValues } from '../scope/scope';
import { type PlannedLine, toDisplayUnits } from './budget-plan';

/** The last known state of one budget instance, in the budget's unit (USD figures are estimates). */
export interface BudgetInstanceState {
  budgetId: string;
  unit: BudgetUnit;
  scope: ScopeValues;
  limit: number;
  spent: number;
  reserved: number;
  /** End of the calendar window, or when rolling spend next leaves the window. */
  resetAtMs: number;
}

/**
 * Remembers the latest state this process saw of each budget instance, from the results
 * of its own reservations and settlements, for gauges. Bounded: the instances seen
 * longest ago are forgotten first.
 */
export class BudgetInstances {
  private readonly states = new Map<string, BudgetInstanceState>();

  constructor(private readonly maxInstances = 1_000) {}

  record(lines: readonly PlannedLine[], states: readonly LineState[]): void {
    lines.forEach((planned, index) => {
      const state = states[index];
      if (!state) return;
      const key = `${planned.budgetId}|${planned.unit}|${JSON.stringify(planned.scope)}`;
      this.states.delete(key); // re-insert so the map stays ordered by recency
      this.states.set(key, {
        budgetId: planned.budgetId,
        unit: planned.unit,
        scope: planned.scope,
        limit: toDisplayUnits(planned.unit, state.limit),
        spent: toDisplayUnits(planned.unit, state.spent),
        reserved: toDisplayUnits(planned.unit, state.reserved),
        resetAtMs: state.resetAtMs,
      });
    });
    while (this.states.size > this.maxInstances) {
      const oldest = this.states.keys().next().value;
      if (oldest === undefined) break;
      this.states.delete(oldest);
    }
  }

  /** Current states; a calendar instance whose window has ended reads as empty until it is used again. */
  snapshot(nowMs: number): BudgetInstanceState[] {
    return [...this.states.values()].map((state) =>
      state.resetAtMs <= nowMs && state.reserved === 0 ? { ...state, spent: 0 } : state,
    );
  }
}

/** Smallest `(limit − spent − reserved) / limit` over the states: how close the call came to a wall. */
export function minHeadroomRatio(states: readonly LineState[]): number | undefined {
  let min: number | undefined;
  for (const state of states) {
    if (state.limit <= 0) continue;
    const ratio = Math.max(0, state.limit - state.spent - state.reserved) / state.limit;
    min = min === undefined ? ratio : Math.min(min, ratio);
  }
  return min;
}
