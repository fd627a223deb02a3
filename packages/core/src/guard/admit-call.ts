import { minHeadroomRatio } from '../budgets/budget-instances';
import type { LedgerLine, LineState, ReserveRequest, ReserveResult } from '../budgets/budget-ledger';
import type { PlannedLine } from '../budgets/budget-plan';
import type { LlmCallDescriptor } from '../call/llm-call';
import { PolicyRejectedError } from '../errors/policy-rejected-error';
import { budgetsTouched } from '../events/budgets-touched';
import type { CallDecisionBase } from '../events/decision-events';
import { isRefusal, reportRefusal } from '../events/refusals';
import { abortReason } from '../limits/bounded-wait';
import type { LimiterPermit } from '../limits/rate-limiter';
import { budgetTriggers, evaluateRules, type RuleSubject } from '../policies/degradation';
import type { CallScope } from '../scope/scope';
import { currentScope, mergeScopes } from '../scope/with-scope';
import { refuseOverBudget } from './budget-refusal';
import { newCallId } from './call-id';
import { enterCircuit, releaseProbe } from './circuit-step';
import { GuardAdmission } from './guard-admission';
import type { GuardRuntime } from './guard-runtime';
import type { Admission, CallOptions } from './guard-types';
import { passLoopRules } from './loop-step';
import { type PlannedCall, planCall } from './planned-call';
import { routeCall } from './route-step';

/** A call is reported as `throttled` when it queued at least this long for rate-limit capacity. */
const THROTTLE_REPORT_MILLIS = 20;

/**
 * Admission, in steps: scope, estimate, loop rules, circuit, the atomic reservation together
 * with the degradation rules (fallback, cheapest, defer, reject; a routing rule may also move a
 * call off a model whose circuit is open, see route-step), then the rate-limit wait. A step
 * that refuses reports its decision event, hands back what earlier steps took (a probe slot,
 * the reservation) and throws the typed error; the request does not exist yet.
 */
export async function admitCall(
  runtime: GuardRuntime,
  call: LlmCallDescriptor,
  options: CallOptions,
): Promise<Admission> {
  const { ledger, events } = runtime;
  const signal = options.signal;
  signal?.throwIfAborted();
  const callId = newCallId();
  const requestedModel = call.model;
  const requestedProvider = call.provider;
  const scope = callScope(options);
  let planned = planCall(runtime, call, callId, scope);
  passLoopRules(runtime, call, planned);
  // Read only where degradation rules or an open circuit need it: built then, not on every call.
  const ruleSubject =
    runtime.config.policies.length > 0 ? subjectOf(runtime, call, planned, scope) : undefined;
  const circuit = enterCircuit(runtime, planned, ruleSubject);
  let probe = circuit.probe;

  // Budgets, in one ledger operation: the reservation, which stops short when a line is used past
  // a degradation rule's trigger so the rules decide on the states it read (fallback, cheapest,
  // defer, reject). It comes before the rate-limit wait: a call the budgets refuse never waits
  // for or takes limiter capacity. When a rule acts whatever the budgets' use (an open circuit
  // that only a routing rule can get around, a `cheapest` rule without a trigger), the rules
  // decide on a plain read first and the call is reserved where they send it.
  let lines: PlannedLine[] = [];
  let reserved: ReserveResult | undefined;
  if (planned.budgets.length > 0 || circuit.open || runtime.hasCheapestRule) {
    if (planned.budgets.length > 0)
      lines = runtime.plan.lines(planned.budgets, planned.subject, planned.amounts, ledger.now());
    // Without degradation rules nothing stops the reservation short.
    const triggers = circuit.open
      ? 'always'
      : ruleSubject && budgetTriggers(runtime.config.policies, ruleSubject);
    let states: readonly LineState[] | undefined;
    try {
      if (triggers === 'always') states = lines.length > 0 ? await ledger.peek(lines.map(ledgerLine)) : [];
      else {
        const request = reserveRequest(runtime, callId, lines, triggers);
        reserved = request && (runtime.reserveNow(request) ?? (await runtime.ledger.reserve(request)));
        if (reserved && !reserved.ok && reserved.reason === 'used-above') states = reserved.lines;
      }
    } catch (error) {
      releaseProbe(runtime, planned, probe);
      throw error;
    }
    if (states && ruleSubject) {
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
        ({ call, planned, probe, lines } = routed);
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
      // Where the rules left the call, it is reserved as planned, without stopping again.
      try {
        const request = reserveRequest(runtime, callId, lines, undefined);
        reserved = request && (runtime.reserveNow(request) ?? (await runtime.ledger.reserve(request)));
      } catch (error) {
        releaseProbe(runtime, planned, probe);
        throw error;
      }
    }
    if (reserved && !reserved.ok) {
      releaseProbe(runtime, planned, probe);
      // A reservation without trigger ratios never stops 'used-above'; only lack of room is left.
      const [failed, state] =
        reserved.reason === 'no-room' ? [reserved.failedLine, reserved.state] : [0, reserved.lines[0]!];
      throw refuseOverBudget(runtime, planned, lines[failed]!, state);
    }
  }
  const { estimate, base } = planned;

  // Rate-limit wait. The budgets are held meanwhile, and handed back if the wait ends without
  // capacity: a caller's abort, a limit that refuses the call, or a timeout in the queue.
  let permit: LimiterPermit;
  try {
    // Synchronous when permits are at hand: no promise, no hop through the context manager's hooks.
    const taken = runtime.limiter.take(
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
    permit = taken instanceof Promise ? await taken : taken;
    // Aborted during the last step of the wait: nothing goes out, so the capacity goes back.
    if (signal?.aborted) {
      permit.refund();
      throw abortReason(signal);
    }
  } catch (error) {
    if (reserved?.ok) await releaseUnsent(runtime, callId, lines);
    reportRefusedWait(runtime, base, signal, error);
    releaseProbe(runtime, planned, probe);
    throw error;
  }
  base.waitMillis = permit.waitMillis;
  if (permit.waitMillis >= THROTTLE_REPORT_MILLIS) {
    events.emit({ ...base, type: 'throttled', limiterKeys: permit.limiterKeys });
  }

  let headroom: number | undefined;
  if (reserved?.ok) {
    runtime.instances.record(lines, reserved.lines);
    headroom = minHeadroomRatio(reserved.lines);
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

/** What the degradation rules and circuit routing read about a call. */
function subjectOf(
  runtime: GuardRuntime,
  call: LlmCallDescriptor,
  planned: PlannedCall,
  scope: Readonly<CallScope>,
): RuleSubject {
  const provider = call.provider;
  return {
    provider,
    models: [call.model.toLowerCase(), planned.subject.model],
    scope,
    substitutes: call.substitutes ?? 'same-provider',
    ids: runtime.routeIds,
    canonicalModel(model) {
      return runtime.canonicalModel(model, provider);
    },
  };
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

/**
 * The reservation of the call's lines (none: nothing to reserve), stopping where a rule would act on the call.
 * The lines are planned at admission, so a calendar window's charge lands in the window the
 * call was admitted in, the one its limit was checked against.
 */
function reserveRequest(
  runtime: GuardRuntime,
  callId: string,
  lines: readonly PlannedLine[],
  triggers: ReadonlyMap<string, number> | undefined,
): ReserveRequest | undefined {
  if (lines.length === 0) return undefined;
  return {
    reservationId: callId,
    lines: lines.map(ledgerLine),
    leaseMillis: runtime.config.leaseMillis,
    unlessUsedAbove: triggers && lines.map((planned) => triggers.get(planned.budgetId)),
  };
}

/** The call never went out after its reservation: the budgets get it back. */
async function releaseUnsent(
  runtime: GuardRuntime,
  callId: string,
  lines: readonly PlannedLine[],
): Promise<void> {
  try {
    const result = await runtime.ledger.release(callId);
    if (result.applied) runtime.instances.record(lines, result.lines);
  } catch {
    // The caller hears the limiter's refusal; a store that could not take the release retries
    // it or ends the reservation with its lease.
  }
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
