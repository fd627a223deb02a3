import type { LineState } from '../budgets/budget-ledger';
import type { PlannedLine } from '../budgets/budget-plan';
import { BUDGET_UNITS, toDisplayUnits } from '../budgets/budget-units';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { reportRefusal } from '../events/refusals';
import type { CallEstimate } from './call-estimate';
import type { GuardRuntime } from './guard-runtime';
import type { PlannedCall } from './planned-call';
import { noteExhausted } from './threshold-alerts';

/** The budget of `planned` has no room for the call: reports the refusal and returns the error to throw. */
export function refuseOverBudget(
  runtime: GuardRuntime,
  call: PlannedCall,
  planned: PlannedLine,
  state: Pick<LineState, 'limit' | 'spent' | 'reserved' | 'resetAtMs'>,
): BudgetExceededError {
  const error = new BudgetExceededError({
    budgetId: planned.budgetId,
    scope: planned.scope,
    unit: planned.unit,
    limit: toDisplayUnits(planned.unit, state.limit),
    spent: toDisplayUnits(planned.unit, state.spent),
    reserved: toDisplayUnits(planned.unit, state.reserved),
    requested: toDisplayUnits(planned.unit, planned.line.amount),
    resetAtMs: state.resetAtMs,
    // Only units the output reservation feeds into can be helped by a lower output cap.
    advice: BUDGET_UNITS[planned.unit].needsOutputBound
      ? reservationAdvice(call.estimate, call.capField)
      : undefined,
  });
  reportRefusal(runtime.events, call.base, error);
  noteExhausted(runtime, planned, state.resetAtMs, call.base.callId);
  return error;
}

/** How a call refused for its size could reserve less, when its output reservation is the reason. */
function reservationAdvice(estimate: CallEstimate, capField: string | undefined): string | undefined {
  if (capField === undefined || estimate.maxOutputTokens === 0) return undefined;
  const reserved = `${estimate.maxOutputTokens} output tokens${estimate.choices > 1 ? ` × ${estimate.choices} choices` : ''}`;
  switch (estimate.outputBound) {
    case 'model-max':
      return (
        `The request sets no ${capField}, so the call reserved the model's maximum output (${reserved}): ` +
        `set ${capField} on the request, or the guard's defaultMaxOutputTokens (Tollgate then sends that cap), to reserve less.`
      );
    case 'sent':
      return `The call reserved the guard's defaultMaxOutputTokens (${reserved}); a lower ${capField} on the request, or a lower defaultMaxOutputTokens, reserves less.`;
    case 'request':
      return `The call reserved the request's own output cap (${reserved}); a lower cap reserves less.`;
    default:
      return undefined;
  }
}
