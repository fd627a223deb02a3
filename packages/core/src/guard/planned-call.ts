import type { BudgetSubject } from '../budgets/budget-plan';
import { BUDGET_UNITS, type LedgerAmounts, reservationAmounts } from '../budgets/budget-units';
import type { NormalizedBudget } from '../budgets/normalized-budget';
import type { LlmCallDescriptor } from '../call/llm-call';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { UnboundedOutputError } from '../errors/unbounded-output-error';
import { UnknownModelPriceError } from '../errors/unknown-model-price-error';
import { type CallEstimate, estimateCall } from '../estimate/call-estimate';
import { outputCapField } from '../estimate/request-output-limits';
import type { CallDecisionBase } from '../events/decision-events';
import { type RefusalError, reportRefusal } from '../events/refusals';
import type { CallScope } from '../scope/scope';
import type { GuardRuntime } from './guard-runtime';

/** A call estimated and matched to the budgets that apply to it, before anything is reserved. */
export interface PlannedCall {
  estimate: CallEstimate;
  /** The output-cap field of the request's shape, for advice in refusals. */
  capField: string | undefined;
  base: CallDecisionBase;
  subject: BudgetSubject;
  budgets: NormalizedBudget[];
  amounts: LedgerAmounts;
}

/**
 * The estimate step: estimates a call and works out which budgets apply and what it would
 * reserve on each. Refuses a call no applicable budget could bound: an unpriced model under a
 * USD budget, or an output nothing caps under a token or USD budget.
 */
export function planCall(
  runtime: GuardRuntime,
  call: LlmCallDescriptor,
  callId: string,
  scope: Readonly<CallScope>,
  /** Throw a refusal without reporting it (a `cheapest` rule weighing a candidate it may not pick). */
  quiet = false,
): PlannedCall {
  const estimate = estimateOrReport(runtime, call, callId, scope);
  const base: CallDecisionBase = {
    callId,
    timestampMs: Date.now(),
    provider: call.provider,
    model: call.model,
    pricedModel: estimate.pricedModel,
    scope,
    estimatedInputTokens: estimate.estimatedInputTokens,
    estimateMethod: estimate.estimateMethod,
    maxOutputTokens: estimate.maxOutputTokens,
    estimatedCostUsd: estimate.worstCaseUsd,
    costLabel: 'estimate',
    waitMillis: 0,
  };
  const subject: BudgetSubject = {
    provider: call.provider,
    model: estimate.pricedModel ?? call.model.toLowerCase(),
    scope,
  };
  const budgets = runtime.plan.applicable(subject);
  if (estimate.price === undefined) {
    const ids = budgetsLimiting(budgets, 'needsPrice');
    if (ids.length > 0) throw refusal(runtime, quiet, base, new UnknownModelPriceError(call.model, ids));
  }
  const capField = outputCapField(call);
  if (estimate.outputBound === 'none') {
    // Nothing bounds the output: a token or USD reservation would be a guess, not a limit.
    const ids = budgetsLimiting(budgets, 'needsOutputBound');
    if (ids.length > 0)
      throw refusal(runtime, quiet, base, new UnboundedOutputError(call.model, ids, capField));
  }
  return { estimate, capField, base, subject, budgets, amounts: reservationAmounts(estimate) };
}

/** Ids of the budgets with a limit in a unit that has `need`. */
function budgetsLimiting(
  budgets: readonly NormalizedBudget[],
  need: 'needsPrice' | 'needsOutputBound',
): string[] {
  return budgets
    .filter((budget) => budget.limits.some((limit) => BUDGET_UNITS[limit.unit][need]))
    .map((budget) => budget.id);
}

/** Estimates the call; a malformed body is reported as an `invalid-request` decision before it is thrown. */
function estimateOrReport(
  runtime: GuardRuntime,
  call: LlmCallDescriptor,
  callId: string,
  scope: Readonly<CallScope>,
): CallEstimate {
  try {
    return estimateCall(call, runtime.estimateSettings(call.provider));
  } catch (error) {
    if (InvalidRequestError.isInstance(error)) {
      runtime.events.emit({
        type: 'invalid-request',
        callId,
        timestampMs: Date.now(),
        provider: call.provider,
        model: call.model,
        scope,
        field: error.field,
      });
    }
    throw error;
  }
}

/** A refusal to throw: reported as a decision unless the caller only weighs the call (`quiet`). */
function refusal<E extends RefusalError>(
  runtime: GuardRuntime,
  quiet: boolean,
  base: CallDecisionBase,
  error: E,
): E {
  return quiet ? error : reportRefusal(runtime.events, base, error);
}
