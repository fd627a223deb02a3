import type { CallScope, ScopeDimension, ScopeValues } from '../scope/scope';
import type { LedgerLine, LedgerWindow } from './budget-ledger';
import type { BudgetUnit, LedgerAmounts } from './budget-units';
import { CalendarWindowClock, isRollingWindow } from './budget-window';
import { counterKey } from './counter-key';
import type { NormalizedBudget } from './normalized-budget';

/** Calls with no value for a budget's `per` dimension share this instance. */
export const UNSET_SCOPE_VALUE = '(none)';

/** The attributes a budget's `match` and `per` read from a call. */
export interface BudgetSubject {
  provider: string;
  /** Canonical model name when priced, else the requested model, lower-cased. */
  model: string;
  scope: Readonly<CallScope>;
}

/** One budget instance and unit a call touches, with its ledger line. */
export interface PlannedLine {
  budgetId: string;
  unit: BudgetUnit;
  scope: ScopeValues;
  /** The budget instance across windows (`budgetId|unit|scope`): the counter key without its window. */
  instanceKey: string;
  windowStartMs: number | undefined;
  line: LedgerLine;
}

/** Turns the configured budgets into the ledger lines a given call touches. */
export class BudgetPlan {
  private readonly clocks: Map<string, CalendarWindowClock>;

  constructor(private readonly budgets: readonly NormalizedBudget[]) {
    this.clocks = new Map(
      budgets.flatMap((budget) =>
        isRollingWindow(budget.window)
          ? []
          : [[budget.id, new CalendarWindowClock(budget.window, budget.timeZone)] as const],
      ),
    );
  }

  /**
   * The window a counter of `budgetId` starting at `windowStartMs` belongs to, for counters known
   * only by their key (reservations of other processes, expired leases).
   */
  windowOf(budgetId: string, windowStartMs: number | undefined): LedgerWindow | undefined {
    const clock = this.clocks.get(budgetId);
    if (clock && windowStartMs !== undefined) return { kind: 'calendar', ...clock.at(windowStartMs) };
    const budget = this.budgets.find((candidate) => candidate.id === budgetId);
    return budget && isRollingWindow(budget.window)
      ? { kind: 'rolling', lengthMs: budget.window.rollingMillis }
      : undefined;
  }

  /** Budgets whose `match` accepts the call. */
  applicable(subject: BudgetSubject): NormalizedBudget[] {
    return this.budgets.filter((budget) => matches(budget, subject));
  }

  /** Ledger lines for the call at `nowMs`, in configuration order (every store reserves them in that order). */
  lines(
    budgets: readonly NormalizedBudget[],
    subject: BudgetSubject,
    amounts: LedgerAmounts,
    nowMs: number,
  ): PlannedLine[] {
    const planned: PlannedLine[] = [];
    for (const budget of budgets) {
      const scope = scopeValues(budget.per, subject);
      const clock = this.clocks.get(budget.id);
      const bounds = clock?.at(nowMs);
      for (const { unit, limit } of budget.limits) {
        const instanceKey = counterKey(budget.id, unit, scope, undefined);
        planned.push({
          budgetId: budget.id,
          unit,
          scope,
          instanceKey,
          windowStartMs: bounds?.startMs,
          line: {
            key: bounds ? `${instanceKey}|${bounds.startMs}` : instanceKey,
            limit,
            amount: amounts[unit],
            window: bounds
              ? { kind: 'calendar', startMs: bounds.startMs, endMs: bounds.endMs }
              : { kind: 'rolling', lengthMs: (budget.window as { rollingMillis: number }).rollingMillis },
            thresholds: budget.alertAt,
          },
        });
      }
    }
    return planned;
  }
}

function scopeValues(per: readonly ScopeDimension[], subject: BudgetSubject): ScopeValues {
  const values: ScopeValues = {};
  for (const dimension of per) values[dimension] = dimensionValue(dimension, subject) ?? UNSET_SCOPE_VALUE;
  return values;
}

function dimensionValue(dimension: ScopeDimension, subject: BudgetSubject): string | undefined {
  switch (dimension) {
    case 'provider':
      return subject.provider;
    case 'model':
      return subject.model;
    default:
      return subject.scope[dimension];
  }
}

function matches(budget: NormalizedBudget, subject: BudgetSubject): boolean {
  for (const [dimension, allowed] of Object.entries(budget.match) as [ScopeDimension, readonly string[]][]) {
    const value = dimensionValue(dimension, subject);
    if (
      value === undefined ||
      !allowed.includes(dimension === 'model' || dimension === 'provider' ? value.toLowerCase() : value)
    ) {
      return false;
    }
  }
  return true;
}
