import type { BudgetUnit } from '../budgets/budget-config';
import type { LedgerLine, LedgerWindow } from '../budgets/budget-ledger';
import { CalendarWindowClock, isRollingWindow } from '../budgets/budget-window';
import { NANO_USD_PER_USD, type NormalizedBudget } from '../config/normalize-guard-config';
import type { CallScope, ScopeDimension, ScopeValues } from '../scope/scope';
import type { BudgetTouched } from './decision-events';

/** Calls with no value for a budget's `per` dimension share this instance. */
export const UNSET_SCOPE_VALUE = '(none)';

/** The attributes a budget's `match` and `per` read from a call. */
export interface BudgetSubject {
  provider: string;
  /** Canonical model name when priced, else the requested model, lower-cased. */
  model: string;
  scope: Readonly<CallScope>;
}

/** A call's amounts in ledger units, one per budget unit. */
export type LedgerAmounts = Record<BudgetUnit, number>;

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

/** Whether lines planned earlier still name the current windows at `nowMs` (rolling lines always do). */
export function windowsStillOpen(lines: readonly PlannedLine[], nowMs: number): boolean {
  for (const { line } of lines) {
    if (line.window.kind === 'calendar' && (nowMs < line.window.startMs || nowMs >= line.window.endMs))
      return false;
  }
  return true;
}

/** Converts a ledger amount to the budget's unit as users see it (USD instead of nano-USD). */
export function toDisplayUnits(unit: BudgetUnit, amount: number): number {
  return unit === 'usd' ? amount / NANO_USD_PER_USD : amount;
}

export function touched(lines: readonly PlannedLine[]): BudgetTouched[] {
  return lines.map((planned) => ({
    budgetId: planned.budgetId,
    unit: planned.unit,
    scope: planned.scope,
    reserved: toDisplayUnits(planned.unit, planned.line.amount),
  }));
}

/**
 * Counter identity: `budgetId|unit|dimension=value,…|windowStart`, with every free-text
 * part URI-encoded so the key splits back unambiguously.
 */
export function counterKey(
  budgetId: string,
  unit: BudgetUnit,
  scope: ScopeValues,
  windowStartMs: number | undefined,
): string {
  const dims = Object.entries(scope)
    .map(([dimension, value]) => `${dimension}=${encodeURIComponent(value as string)}`)
    .join(',');
  const base = `${encodeURIComponent(budgetId)}|${unit}|${dims}`;
  return windowStartMs === undefined ? base : `${base}|${windowStartMs}`;
}

/** Splits a counter key back into its parts (for events about reservations of other processes). */
export function parseCounterKey(key: string): {
  budgetId: string;
  unit: BudgetUnit;
  scope: ScopeValues;
  windowStartMs: number | undefined;
} {
  const [id = '', unit = 'usd', dims = '', start] = key.split('|');
  const scope: ScopeValues = {};
  for (const pair of dims.split(',')) {
    if (!pair) continue;
    const [dimension, value = ''] = pair.split('=');
    scope[dimension as ScopeDimension] = decodeURIComponent(value);
  }
  return {
    budgetId: decodeURIComponent(id),
    unit: unit as BudgetUnit,
    scope,
    windowStartMs: start === undefined ? undefined : Number(start),
  };
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
