import { randomUUID } from 'node:crypto';
import { minHeadroomRatio } from '../budgets/budget-instances';
import type { LedgerLine, LineState, ReserveResult } from '../budgets/budget-ledger';
import { type PlannedLine, windowsStillOpen } from '../budgets/budget-plan';
import type { LlmCallDescriptor } from '../call/llm-call';
import { PolicyRejectedError } from '../errors/policy-rejected-error';
import { budgetsTouched } from '../events/budgets-touched';
import type { CallDecisionBase } from '../events/decision-events';
import { isRefusal, reportRefusal } from '../events/refusals';
import { abortReason } from '../limits/bounded-wait';
import type { LimiterPermit } from '../limits/rate-limiter';
import { evaluateRules, type RuleSubject } from '../policies/degradation';
import type { CallScope } from '../scope/scope';
import { currentScope, mergeScopes } from '../scope/with-scope';
import { refuseOverBudget } from './budget-refusal';
import { enterCircuit, releaseProbe } from './circuit-step';
import { GuardAdmission } from './guard-admission';
import type { GuardRuntime } from './guard-runtime';
import type { Admission, CallOptions } from './guard-types';
import { passLoopRules } from './loop-step';
import { planCall } from './planned-call';
import { routeCall } from './route-step';

/** A call is reported as `throttled` when it queued at least this long for rate-limit capacity. */
const THROTTLE_REPORT_MILLIS = 20;

/**
 * Admission, in steps: scope, estimate, loop rules, circuit, degradation rules (fallback,
 * cheapest, defer, reject; a routing rule may also move a call off a model whose circuit is
 * open, see route-step) with a budget pre-check,
 * rate-limit wait, then the atomic reservation. A step that refuses reports its decision
 * event, hands back what earlier steps took (a probe slot, limiter capacity) and throws the
 * typed error; the request does not exist yet.
 */
export async function admitCall(
  runtime: GuardRuntime,
  call: LlmCallDescriptor,
  options: CallOptions,
): Promise<Admission> {
  const { ledger, events } = runtime;
  const signal = options.signal;
  signal?.throwIfAborted();
  const callId = randomUUID();
  const requestedModel = call.model;
  const requestedProvider = call.provider;
  const scope = callScope(options);
  let planned = planCall(runtime, call, callId, scope);
  passLoopRules(runtime, call, planned);
  const ruleSubject: RuleSubject = {
    provider: call.provider,
    models: [call.model.toLowerCase(), planned.subject.model],
    scope,
    substitutes: call.substitutes ?? 'same-provider',
    ids: runtime.routeIds,
    canonicalModel: (model) => runtime.canonicalModel(model, call.provider),
  };
  const circuit = enterCircuit(runtime, planned, ruleSubject);
  let probe = circuit.probe;

  // Rules and budget pre-check: an exhausted budget refuses without taking rate-limit capacity.
  // An open circuit got this far only because a routing rule may move the call off its model.
  let lines: PlannedLine[] = [];
  if (planned.budgets.length > 0 || circuit.open || runtime.hasCheapestRule) {
    if (planned.budgets.length > 0)
      lines = runtime.plan.lines(planned.budgets, planned.subject, planned.amounts, ledger.now());
    let states: readonly LineState[] = lines.length > 0 ? await ledger.peek(lines.map(ledgerLine)) : [];
    const decision = evaluateRules(
      runtime.config.policies,
      { ...ruleSubject, circuitOpen: circuit.open !== undefined },
      lines,
      states,
    );
    if (circuit.open && decision.action === 'none') throw reportRefusal(events, planned.base, circuit.open);
    if (decision.action === 'fallback' || decision.action === 'cheapest') {
      const routed = await routeCall(
        runtime,
        { call, planned, probe, circuitOpen: circuit.open, callId, scope },
        decision,
      );
      ({ call, planned, probe, lines, states } = routed);
    } else if (decision.action === 'reject' || decision.action === 'defer') {
      releaseProbe(runtime, planned, probe);
      const error = new PolicyRejectedError({
        ruleId: decision.rule.id,
        action: decision.action,
        budgetId: decision.rule.when.budget,
        budgetScope: decision.budgetScope,
        usedRatio: decision.usedRatio,
        retryAfterMs: Math.max(0, decision.resetAtMs - ledger.now()),
      });
      throw reportRefusal(events, planned.base, error);
    }
    const failed = firstWithoutRoom(lines, states);
    if (failed >= 0) {
      releaseProbe(runtime, planned, probe);
      throw refuseOverBudget(runtime, planned, lines[failed]!, states[failed]!);
    }
  }
  const { estimate, base, subject, budgets, amounts } = planned;

  // Rate-limit wait: no budget is held while the call queues.
  let permit: LimiterPermit;
  try {
    permit = await runtime.limiter.acquire(
      {
        provider: call.provider,
        model: call.model,
        canonicalModel: estimate.pricedModel,
        tenant: scope.tenant,
        weightTokens: estimate.worstCaseTokens,
        priority: scope.priority ?? 'interactive',
      },
      signal,
    );
    // Aborted during the last step of the wait: nothing goes out, so the capacity goes back.
    if (signal?.aborted) {
      permit.refund();
      throw abortReason(signal);
    }
  } catch (error) {
    reportRefusedWait(runtime, base, signal, error);
    releaseProbe(runtime, planned, probe);
    throw error;
  }
  base.waitMillis = permit.waitMillis;
  if (permit.waitMillis >= THROTTLE_REPORT_MILLIS) {
    events.emit({ ...base, type: 'throttled', limiterKeys: permit.limiterKeys });
  }

  // Reservation across every applicable budget, all or nothing. The window may have rolled
  // while the call queued: the lines are planned again at reservation time.
  const reserveAtMs = ledger.now();
  if (budgets.length === 0) lines = [];
  else if (lines.length === 0 || !windowsStillOpen(lines, reserveAtMs))
    lines = runtime.plan.lines(budgets, subject, amounts, reserveAtMs);
  let headroom: number | undefined;
  if (lines.length > 0) {
    let result: ReserveResult;
    try {
      result = await ledger.reserve({
        reservationId: callId,
        lines: lines.map(ledgerLine),
        leaseMillis: runtime.config.leaseMillis,
      });
    } catch (error) {
      permit.refund();
      releaseProbe(runtime, planned, probe);
      throw error;
    }
    if (!result.ok) {
      permit.refund();
      releaseProbe(runtime, planned, probe);
      throw refuseOverBudget(runtime, planned, lines[result.failedLine]!, result.state);
    }
    runtime.instances.record(lines, result.lines);
    headroom = minHeadroomRatio(result.lines);
  }

  const admission = new GuardAdmission(
    runtime,
    callId,
    call.model,
    requestedModel,
    requestedProvider,
    estimate,
    scope,
    base,
    lines,
    permit,
    headroom,
    probe,
  );
  runtime.openCalls.set(callId, admission);
  if (events.wants('allowed')) {
    events.emit({
      ...base,
      type: 'allowed',
      reservationId: callId,
      budgets: budgetsTouched(lines),
      limiterKeys: permit.limiterKeys,
    });
  }
  return admission;
}

/** The scope step: the ambient `withScope()` scope, overridden field by field by the call's options. */
function callScope(options: CallOptions): Readonly<CallScope> {
  return mergeScopes(
    currentScope(),
    options.priority ? { ...options.scope, priority: options.priority } : options.scope,
  );
}

function ledgerLine(planned: PlannedLine): LedgerLine {
  return planned.line;
}

/** Index of the first line whose budget has no room left for the call's amount, or -1. */
function firstWithoutRoom(lines: readonly PlannedLine[], states: readonly LineState[]): number {
  return states.findIndex(
    (state, index) => state.spent + state.reserved + lines[index]!.line.amount > state.limit,
  );
}

/** The wait for rate-limit capacity ended without a permit: the caller aborted, or a limit refused the call. */
function reportRefusedWait(
  runtime: GuardRuntime,
  base: CallDecisionBase,
  signal: AbortSignal | undefined,
  error: unknown,
): void {
  if (signal?.aborted) {
    runtime.events.emit({ ...base, type: 'aborted', waitMillis: Date.now() - base.timestampMs });
  } else if (isRefusal(error)) {
    reportRefusal(runtime.events, base, error);
  }
}
