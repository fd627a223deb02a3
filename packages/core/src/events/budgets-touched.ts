import type { PlannedLine } from '../budgets/budget-plan';
import { toDisplayUnits } from '../budgets/budget-units';
import type { BudgetTouched } from './decision-events';

/**
 * The budget instances a call's lines touch, as decision events report them: with the amount
 * each line reserved, or the ledger amounts given (what settlement charged).
 */
export function budgetsTouched(lines: readonly PlannedLine[], amounts?: readonly number[]): BudgetTouched[] {
  return lines.map((planned, index) => ({
    budgetId: planned.budgetId,
    unit: planned.unit,
    scope: planned.scope,
    reserved: toDisplayUnits(planned.unit, amounts?.[index] ?? planned.line.amount),
  }));
}
