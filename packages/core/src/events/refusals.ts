import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { LoopDetectedError } from '../errors/loop-detected-error';
import { PolicyRejectedError } from '../errors/policy-rejected-error';
import { RateLimitedError } from '../errors/rate-limited-error';
import { TollgateError } from '../errors/tollgate-error';
import { UnboundedOutputError } from '../errors/unbounded-output-error';
import { UnknownModelPriceError } from '../errors/unknown-model-price-error';
import type { DecisionEmitter } from './decision-emitter';
import type { CallDecisionBase, DecisionEvent } from './decision-events';

/** The typed errors the gate refuses a call with, before the request exists. */
export type RefusalError =
  | BudgetExceededError
  | RateLimitedError
  | UnknownModelPriceError
  | UnboundedOutputError
  | CircuitOpenError
  | PolicyRejectedError
  | LoopDetectedError;

/**
 * What a refused call's span records about the refusal, by meaning; the span code gives each
 * its attribute name (`tollgate.gate.decision`, `tollgate.gate.reason`, …).
 */
export interface RefusalSpanFacts {
  /** The gate decision, e.g. `budget_exceeded`. */
  readonly decision: string;
  readonly reason?: string;
  readonly limiterKeys?: string[];
  readonly budgetId?: string;
  readonly ruleId?: string;
  /** The refused call's worst case, when the budget that refused it counts USD (an estimate). */
  readonly estimatedCostUsd?: number;
}

/** One kind of refusal: the decision event and span facts its typed error carries. */
interface RefusalKind<E extends RefusalError> {
  event(error: E, base: CallDecisionBase): DecisionEvent;
  span(error: E): RefusalSpanFacts;
}

function kind<E extends RefusalError>(
  code: string,
  description: RefusalKind<E>,
): [string, RefusalKind<RefusalError>] {
  return [code, description as unknown as RefusalKind<RefusalError>];
}

/** Every refusal kind, keyed by its error's code (which survives duplicate package copies). */
const REFUSALS = new Map<string, RefusalKind<RefusalError>>([
  kind<BudgetExceededError>(BudgetExceededError.code, {
    event: (error, base) => ({
      ...base,
      type: 'budget-exceeded',
      budgetId: error.budgetId,
      unit: error.unit,
      limit: error.limit,
      spent: error.spent,
      reserved: error.reserved,
      requested: error.requested,
      resetAtMs: error.resetAtMs,
      budgetScope: error.scope,
    }),
    span: (error) => ({
      decision: 'budget_exceeded',
      budgetId: error.budgetId,
      estimatedCostUsd: error.unit === 'usd' ? error.requested : undefined,
    }),
  }),
  kind<RateLimitedError>(RateLimitedError.code, {
    event: (error, base) => ({
      ...base,
      type: 'rate-limited',
      waitMillis: Date.now() - base.timestampMs,
      limiterKey: error.limiterKey,
      reason: error.reason,
      retryAfterMs: error.retryAfterMs,
    }),
    span: (error) => ({ decision: 'rate_limited', reason: error.reason, limiterKeys: [error.limiterKey] }),
  }),
  kind<UnknownModelPriceError>(UnknownModelPriceError.code, {
    event: (error, base) => ({ ...base, type: 'unpriced-model', budgetIds: error.budgetIds }),
    span: () => ({ decision: 'unpriced_model' }),
  }),
  kind<UnboundedOutputError>(UnboundedOutputError.code, {
    event: (error, base) => ({ ...base, type: 'unbounded-output', budgetIds: error.budgetIds }),
    span: () => ({ decision: 'unbounded_output' }),
  }),
  kind<CircuitOpenError>(CircuitOpenError.code, {
    event: (error, base) => ({
      ...base,
      type: 'circuit-open',
      circuitKey: error.circuitKey,
      reason: error.reason,
      retryAfterMs: error.retryAfterMs,
    }),
    span: () => ({ decision: 'circuit_open' }),
  }),
  kind<PolicyRejectedError>(PolicyRejectedError.code, {
    event: (error, base) => ({
      ...base,
      type: 'policy-rejected',
      ruleId: error.ruleId,
      action: error.action,
      budgetId: error.budgetId,
      budgetScope: error.budgetScope,
      usedRatio: error.usedRatio,
      retryAfterMs: error.retryAfterMs,
    }),
    span: (error) => ({
      decision: error.action === 'defer' ? 'deferred' : 'policy_rejected',
      budgetId: error.budgetId,
      ruleId: error.ruleId,
    }),
  }),
  kind<LoopDetectedError>(LoopDetectedError.code, {
    event: (error, base) => ({
      ...base,
      type: 'loop-detected',
      ruleId: error.ruleId,
      loopScope: error.scope,
      count: error.count,
      windowMillis: error.windowMillis,
      retryAfterMs: error.retryAfterMs,
      fingerprint: error.fingerprint,
    }),
    span: (error) => ({ decision: 'loop_detected', reason: error.ruleId, ruleId: error.ruleId }),
  }),
]);

function refusalKind(error: unknown): RefusalKind<RefusalError> | undefined {
  return TollgateError.isInstance(error) ? REFUSALS.get(error.code) : undefined;
}

/** Whether `error` is one of the gate's refusals (from any copy of the package). */
export function isRefusal(error: unknown): error is RefusalError {
  return refusalKind(error) !== undefined;
}

/** Emits the decision event that reports a refusal of the call `base` describes, and returns the error to throw. */
export function reportRefusal<E extends RefusalError>(
  events: DecisionEmitter,
  base: CallDecisionBase,
  error: E,
): E {
  const refusal = refusalKind(error);
  if (refusal) events.emit(refusal.event(error, base));
  return error;
}

/** What the span of a call refused with `error` records; `error` for anything that is not a refusal. */
export function refusalSpanFacts(error: unknown): RefusalSpanFacts {
  const refusal = refusalKind(error);
  if (refusal) return refusal.span(error as RefusalError);
  // Refused before an estimate existed: its event is emitted by the estimate step.
  if (InvalidRequestError.isInstance(error)) return { decision: 'invalid_request', reason: error.field };
  return OTHER_ERROR;
}

const OTHER_ERROR: RefusalSpanFacts = { decision: 'error' };
