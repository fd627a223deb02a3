import type { Attributes } from '@opentelemetry/api';
import type { BudgetUnit } from '../budgets/budget-config';
import type { ScopeValues } from '../scope/scope';
import { attributesKey } from './accumulated-counter';
import { ATTR_TOLLGATE_BUDGET_ID, ATTR_TOLLGATE_BUDGET_UNIT } from './semconv';

/** Metric attributes of one budget instance: budget id, unit and the scope it is split by. */
export function budgetInstanceAttributes(budgetId: string, unit: BudgetUnit, scope: ScopeValues): Attributes {
  const attributes: Attributes = {
    [ATTR_TOLLGATE_BUDGET_ID]: budgetId,
    [ATTR_TOLLGATE_BUDGET_UNIT]: unit,
  };
  for (const [dimension, value] of Object.entries(scope)) attributes[`tollgate.${dimension}`] = value;
  return attributes;
}

/** One budget instance as the exhaustion gauge reports it. */
export interface ExhaustionReading {
  attributes: Attributes;
  exhausted: boolean;
}

/**
 * Which budget instances refused a call for lack of room in their current window. A worst-case
 * reservation is refused before settled spend reaches the limit, so "spent ≥ limit" alone
 * rarely happens on a busy budget: the refusal is what says the budget is exhausted.
 *
 * Every instance ever reported keeps being reported (0 after its window resets): an observable
 * gauge series the callback stops reporting is exported at its last value for the life of the
 * process, which would keep a resolved alert firing. Bounded like the budget gauges.
 */
export class ExhaustedBudgets {
  private readonly instances = new Map<string, { attributes: Attributes; refusedUntilMs: number }>();

  constructor(private readonly maxInstances = 1_000) {}

  /** Notes a refusal for lack of room; the instance counts as exhausted until `resetAtMs`. */
  refused(attributes: Attributes, resetAtMs: number): void {
    this.remember(attributesKey(attributes), attributes, resetAtMs);
  }

  /**
   * The reading of every instance known from refusals or from `states` (the guard's budget
   * instances): exhausted while a refusal's window lasts or while settled spend is at the limit.
   */
  read(
    states: readonly {
      budgetId: string;
      unit: BudgetUnit;
      scope: ScopeValues;
      limit: number;
      spent: number;
    }[],
    nowMs: number,
  ): ExhaustionReading[] {
    const readings = new Map<string, ExhaustionReading>();
    for (const [key, { attributes, refusedUntilMs }] of this.instances)
      readings.set(key, { attributes, exhausted: refusedUntilMs > nowMs });
    for (const state of states) {
      const attributes = budgetInstanceAttributes(state.budgetId, state.unit, state.scope);
      const key = attributesKey(attributes);
      const atLimit = state.limit > 0 && state.spent >= state.limit;
      const known = readings.get(key);
      if (known) {
        known.exhausted ||= atLimit;
        continue;
      }
      readings.set(key, { attributes, exhausted: atLimit });
      // Remembered so it is still reported (as 0) if the guard later forgets the instance.
      this.remember(key, attributes, 0);
    }
    return [...readings.values()];
  }

  private remember(key: string, attributes: Attributes, refusedUntilMs: number): void {
    const known = this.instances.get(key);
    if (known) {
      known.refusedUntilMs = Math.max(known.refusedUntilMs, refusedUntilMs);
      return;
    }
    if (this.instances.size >= this.maxInstances) this.forgetOne();
    this.instances.set(key, { attributes, refusedUntilMs });
  }

  /** At the cap, forget an instance whose refusal has expired, else the oldest one. */
  private forgetOne(): void {
    const now = Date.now();
    for (const [key, instance] of this.instances) {
      if (instance.refusedUntilMs <= now) {
        this.instances.delete(key);
        return;
      }
    }
    const oldest = this.instances.keys().next().value;
    if (oldest !== undefined) this.instances.delete(oldest);
  }
}
