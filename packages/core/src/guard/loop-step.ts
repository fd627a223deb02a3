import type { LlmCallDescriptor } from '../call/llm-call';
import { LoopDetectedError } from '../errors/loop-detected-error';
import { reportRefusal } from '../events/refusals';
import type { GuardRuntime } from './guard-runtime';
import type { PlannedCall } from './planned-call';

/**
 * The loop step: refuses a request its loop rules have seen too often, right after the
 * estimate and before the circuit, the budgets and the limiter are touched, so a refused
 * repeat holds no probe slot, no reservation and no rate-limit capacity.
 */
export function passLoopRules(runtime: GuardRuntime, call: LlmCallDescriptor, planned: PlannedCall): void {
  if (!runtime.loops.active) return;
  const verdict = runtime.loops.admit(call, planned.subject.model, planned.subject.scope, Date.now());
  if (!verdict) return;
  const error = new LoopDetectedError({
    ruleId: verdict.rule.id,
    scope: verdict.scope,
    count: verdict.count,
    windowMillis: verdict.rule.windowMillis,
    retryAfterMs: verdict.retryAfterMs,
    fingerprint: verdict.fingerprint,
  });
  throw reportRefusal(runtime.events, planned.base, error);
}
