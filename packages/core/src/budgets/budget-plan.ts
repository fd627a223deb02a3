import type { CallScope, ScopeDimension, ScopeValues } from '../scope/scope';
import type { LedgerLine, LedgerWindow } from './budget-ledger';
import type { BudgetUnit, LedgerAmounts } from './budget-units';
import { CalendarWindowClock, isRollingWindow, type WindowBounds } from './budget-window';
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
  /** Each budget's instances seen so far, by their scope values: a call builds no key strings. */
  private readonly instances = new Map<string, Map<string, InstanceParts>>();
  /** The ledger window of each budget's current calendar window, or its rolling window. */
  private readonly windows = new Map<string, { bounds: WindowBounds | undefined; window: LedgerWindow }>();

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
      const { scope, instanceKeys } = this.instanceOf(budget, subject);
      const { bounds, window } = this.windowAt(budget, nowMs);
      for (let index = 0; index < budget.limits.length; index++) {
        const { unit, limit } = budget.limits[index]!;
        const instanceKey = instanceKeys[index]!;
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
            window,
            thresholds: budget.alertAt,
          },
        });
      }
    }
    return planned;
  }

  /** The budget instance a call falls in: its scope values and, per limit, its key without the window. */
  private instanceOf(budget: NormalizedBudget, subject: BudgetSubject): InstanceParts {
    let known = this.instances.get(budget.id);
    if (!known) {
      known = new Map();
      this.instances.set(budget.id, known);
    }
    const values = budget.per.map((dimension) => dimensionValue(dimension, subject) ?? UNSET_SCOPE_VALUE);
    const signature = values.length === 1 ? values[0]! : values.join('\u0000');
    let parts = known.get(signature);
    if (!parts) {
      // Instances per budget are unbounded (one per tenant, say): past the cap, start over.
      if (known.size >= MAX_REMEMBERED_INSTANCES) known.clear();
      const scope: ScopeValues = {};
      budget.per.forEach((dimension, index) => {
        scope[dimension] = values[index];
      });
      // Shared by every call in the instance (and the events about them): frozen, so none can change it.
      Object.freeze(scope);
      parts = {
        scope,
        instanceKeys: budget.limits.map(({ unit }) => counterKey(budget.id, unit, scope, undefined)),
      };
      known.set(signature, parts);
    }
    return parts;
  }

  /** The budget's window at `nowMs`: one object per calendar window, shared by the calls in it. */
  private windowAt(
    budget: NormalizedBudget,
    nowMs: number,
  ): { bounds: WindowBounds | undefined; window: LedgerWindow } {
    const bounds = this.clocks.get(budget.id)?.at(nowMs);
    let current = this.windows.get(budget.id);
    if (!current || current.bounds !== bounds) {
      current = {
        bounds,
        window: bounds
          ? { kind: 'calendar', startMs: bounds.startMs, endMs: bounds.endMs }
          : { kind: 'rolling', lengthMs: (budget.window as { rollingMillis: number }).rollingMillis },
      };
      this.windows.set(budget.id, current);
    }
    return current;
  }
}

/** How many instances of one budget keep their keys built; more start the memory over. */
const MAX_REMEMBERED_INSTANCES = 10_000;

/** A budget instance's parts that do not change from call to call. */
interface InstanceParts {
  scope: Readonly<ScopeValues>;
  /** Per limit of the budget, in order: the counter key without its window. */
  instanceKeys: readonly string[];
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
