import type { BudgetSubject } from '../budgets/budget-plan';
import { NO_AMOUNTS, toDisplayUnits } from '../budgets/budget-units';
import { TollgateConfigError } from '../errors/config-error';
import type { CallScope } from '../scope/scope';
import type { GuardRuntime } from './guard-runtime';
import type { BudgetStatus } from './guard-types';

/** Current spend of one budget instance, read from the ledger (USD figures are estimates). */
export async function readBudgetStatus(
  runtime: GuardRuntime,
  budgetId: string,
  scope: CallScope & { provider?: string; model?: string },
): Promise<BudgetStatus[]> {
  const budget = runtime.config.budgets.find((candidate) => candidate.id === budgetId);
  if (!budget) throw new TollgateConfigError('budgetId', 'names no configured budget', budgetId);
  // A budget split by provider or model has no instance for "none": admission always knows both.
  for (const dimension of ['provider', 'model'] as const) {
    if (budget.per.includes(dimension) && !scope[dimension]) {
      throw new TollgateConfigError(
        dimension,
        `is needed: budget "${budgetId}" is split by ${dimension}, pass it in the scope`,
        scope[dimension],
      );
    }
  }
  const subject: BudgetSubject = {
    provider: scope.provider ?? '',
    // The name admission charges: the price table's, else the model lower-cased.
    model: scope.model === undefined ? '' : runtime.canonicalModel(scope.model, scope.provider),
    scope,
  };
  const lines = runtime.plan.lines([budget], subject, NO_AMOUNTS, runtime.ledger.now());
  const states = await runtime.ledger.peek(lines.map((planned) => planned.line));
  return lines.map((planned, index) => {
    const state = states[index]!;
    return {
      budgetId,
      unit: planned.unit,
      limit: toDisplayUnits(planned.unit, state.limit),
      spent: toDisplayUnits(planned.unit, state.spent),
      reserved: toDisplayUnits(planned.unit, state.reserved),
      resetAtMs: state.resetAtMs,
    };
  });
}
