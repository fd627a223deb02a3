import type { PlannedLine } from '../budgets/budget-plan';
import { toDisplayUnits } from '../budgets/budget-units';
import type { BudgetTouched } from './decision-events';

/** The budget instances a call's lines touch, as decision events report them. */
export function budgetsTouched(lines: readonly PlannedLine[]): BudgetTouched[] {
  return lines.map((planned) => ({
    budgetId: planned.budgetId,
    unit: planned.unit,
    scope: planned.scope,
    reserved: toDisplayUnits(planned.unit, planned.line.amount),
  }));
}
