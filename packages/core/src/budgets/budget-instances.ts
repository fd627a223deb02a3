import type { ScopeValues } from '../scope/scope';
import type { LineState } from './budget-ledger';
import type { PlannedLine } from './budget-plan';
import type { BudgetUnit } from './budget-units';
import { toDisplayUnits } from './budget-units';

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
  private readonly states = new Map<string, BudgetInstanceState & { seen: number }>();
  private seen = 0;

  constructor(private readonly maxInstances = 1_000) {}

  record(lines: readonly PlannedLine[], states: readonly LineState[]): void {
    for (let index = 0; index < lines.length; index++) {
      const planned = lines[index]!;
      const state = states[index];
      if (!state) continue;
      const known = this.states.get(planned.instanceKey);
      // Updated in place on every call: recency is a counter, read only when the map is full.
      if (known) {
        known.limit = toDisplayUnits(planned.unit, state.limit);
        known.spent = toDisplayUnits(planned.unit, state.spent);
        known.reserved = toDisplayUnits(planned.unit, state.reserved);
        known.resetAtMs = state.resetAtMs;
        known.seen = ++this.seen;
        continue;
      }
      if (this.states.size >= this.maxInstances) this.forgetLeastRecent();
      this.states.set(planned.instanceKey, {
        budgetId: planned.budgetId,
        unit: planned.unit,
        scope: planned.scope,
        limit: toDisplayUnits(planned.unit, state.limit),
        spent: toDisplayUnits(planned.unit, state.spent),
        reserved: toDisplayUnits(planned.unit, state.reserved),
        resetAtMs: state.resetAtMs,
        seen: ++this.seen,
      });
    }
  }

  /** Current states; a calendar instance whose window has ended reads as empty until it is used again. */
  snapshot(nowMs: number): BudgetInstanceState[] {
    return [...this.states.values()].map(({ seen: _seen, ...state }) =>
      state.resetAtMs <= nowMs && state.reserved === 0 ? { ...state, spent: 0 } : state,
    );
  }

  /** Only when a new instance arrives at the cap: one pass for the instance seen longest ago. */
  private forgetLeastRecent(): void {
    let oldestKey: string | undefined;
    let oldestSeen = Number.POSITIVE_INFINITY;
    for (const [key, state] of this.states) {
      if (state.seen < oldestSeen) {
        oldestSeen = state.seen;
        oldestKey = key;
      }
    }
    if (oldestKey !== undefined) this.states.delete(oldestKey);
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
