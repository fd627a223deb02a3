import { describe, expect, it } from 'vitest';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { TollgateConfigError } from '../errors/config-error';
import { LoopDetectedError } from '../errors/loop-detected-error';
import { PolicyRejectedError } from '../errors/policy-rejected-error';
import { RateLimitedError } from '../errors/rate-limited-error';
import { UnboundedOutputError } from '../errors/unbounded-output-error';
import { UnknownModelPriceError } from '../errors/unknown-model-price-error';
import { DecisionEmitter } from './decision-emitter';
import type { CallDecisionBase, DecisionEvent } from './decision-events';
import { isRefusal, type RefusalError, refusalSpanFacts, reportRefusal } from './refusals';

const base: CallDecisionBase = {
  callId: 'call-1',
  timestampMs: Date.now(),
  provider: 'openai',
  model: 'gpt-4o',
  pricedModel: 'gpt-4o',
  scope: {},
  estimatedInputTokens: 10,
  estimateMethod: 'tiktoken',
  maxOutputTokens: 100,
  estimatedCostUsd: 0.01,
  costLabel: 'estimate',
  waitMillis: 0,
};

function reported(error: RefusalError): DecisionEvent {
  const events: DecisionEvent[] = [];
  const emitter = new DecisionEmitter([(event) => void events.push(event)]);
  expect(reportRefusal(emitter, base, error)).toBe(error);
  expect(events).toHaveLength(1);
  return events[0]!;
}

const overBudget = new BudgetExceededError({
  budgetId: 'daily',
  scope: { tenant: 'acme' },
  unit: 'usd',
  limit: 25,
  spent: 24.99,
  reserved: 0,
  requested: 0.02,
  resetAtMs: 1_000,
});

describe('refusals', () => {
  it('derive the decision event from the typed error', () => {
    expect(reported(overBudget)).toEqual({
      ...base,
      type: 'budget-exceeded',
      budgetId: 'daily',
      budgetScope: { tenant: 'acme' },
      unit: 'usd',
      limit: 25,
      spent: 24.99,
      reserved: 0,
      requested: 0.02,
      resetAtMs: 1_000,
    });
    expect(reported(new UnknownModelPriceError('mystery', ['daily']))).toMatchObject({
      type: 'unpriced-model',
      budgetIds: ['daily'],
    });
    expect(reported(new UnboundedOutputError('mystery', ['daily'], 'max_tokens'))).toMatchObject({
      type: 'unbounded-output',
      budgetIds: ['daily'],
    });
    expect(reported(new CircuitOpenError('openai:gpt-4o', 'error-rate', 500))).toMatchObject({
      type: 'circuit-open',
      circuitKey: 'openai:gpt-4o',
      reason: 'error-rate',
      retryAfterMs: 500,
    });
    const limited = reported(new RateLimitedError('openai:gpt-4o', 'max-wait-exceeded', 200, 'queue full'));
    expect(limited).toMatchObject({ type: 'rate-limited', limiterKey: 'openai:gpt-4o', retryAfterMs: 200 });
    const loop = new LoopDetectedError({
      ruleId: 'retry-storm',
      scope: { tenant: 'acme' },
      count: 3,
      windowMillis: 60_000,
      retryAfterMs: 41_000,
      fingerprint: 'abc',
    });
    expect(reported(loop)).toEqual({
      ...base,
      type: 'loop-detected',
      ruleId: 'retry-storm',
      loopScope: { tenant: 'acme' },
      count: 3,
      windowMillis: 60_000,
      retryAfterMs: 41_000,
      fingerprint: 'abc',
    });
    expect(loop.message).toBe(
      'Loop rule "retry-storm" (tenant=acme) refused the call: the same request was sent 3 times in 60000 ms; ' +
        'retry after 41000 ms. The request was not sent.',
    );
    // The rate-limited event says how long the call waited before it was refused.
    expect(limited.type === 'rate-limited' && limited.waitMillis).toBeGreaterThanOrEqual(0);
  });

  it('derive the span facts from the typed error', () => {
    expect(refusalSpanFacts(overBudget)).toEqual({
      decision: 'budget_exceeded',
      budgetId: 'daily',
      estimatedCostUsd: 0.02,
    });
    const tokens = new BudgetExceededError({ ...overBudget, unit: 'tokens', requested: 500 });
    expect(refusalSpanFacts(tokens).estimatedCostUsd).toBeUndefined();
    expect(refusalSpanFacts(new RateLimitedError('k', 'provider-backoff', 10, 'x'))).toEqual({
      decision: 'rate_limited',
      reason: 'provider-backoff',
      limiterKeys: ['k'],
    });
    const rule = { ruleId: 'r', budgetId: 'daily', budgetScope: {}, usedRatio: 0.9, retryAfterMs: 5 };
    expect(refusalSpanFacts(new PolicyRejectedError({ ...rule, action: 'defer' })).decision).toBe('deferred');
    expect(refusalSpanFacts(new PolicyRejectedError({ ...rule, action: 'reject' }))).toEqual({
      decision: 'policy_rejected',
      budgetId: 'daily',
      ruleId: 'r',
    });
    expect(refusalSpanFacts(new UnknownModelPriceError('m', ['b'])).decision).toBe('unpriced_model');
    expect(refusalSpanFacts(new UnboundedOutputError('m', ['b'], undefined)).decision).toBe(
      'unbounded_output',
    );
    expect(refusalSpanFacts(new CircuitOpenError('k', 'manual', 0)).decision).toBe('circuit_open');
    const loop = new LoopDetectedError({
      ruleId: 'agent-steps',
      scope: {},
      count: 5,
      windowMillis: 1_000,
      retryAfterMs: 0,
      fingerprint: 'f',
    });
    expect(refusalSpanFacts(loop)).toEqual({
      decision: 'loop_detected',
      reason: 'agent-steps',
      ruleId: 'agent-steps',
    });
  });

  it('are told apart from other errors, across package copies', () => {
    expect(refusalSpanFacts(new Error('socket hang up'))).toEqual({ decision: 'error' });
    expect(isRefusal(new TollgateConfigError('budgets', 'must be an array', 1))).toBe(false);
    const foreign = Object.assign(new Error('from another copy'), { code: RateLimitedError.code });
    Object.defineProperty(foreign, Symbol.for('tollgate.error'), { value: true });
    expect(isRefusal(foreign)).toBe(true);
  });
});
