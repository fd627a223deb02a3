import { minHeadroomRatio } from '../budgets/budget-instances';
import type { SettleResult } from '../budgets/budget-ledger';
import type { CallFailure } from '../policies/circuit-breaker';
import type { GuardRuntime } from './guard-runtime';
import type { Settlement } from './guard-types';
import { reportLedgerFailure } from './ledger-failure';
import type { AdmittedCall } from './open-call';

/**
 * Release: frees a call's whole reservation because the provider did no billable work (the
 * connection was refused, the request failed); judges the call for its circuit (`cancelled`
 * unless a failure is given) and reports a `released` event. Never rejects: a ledger failure
 * is reported and returns `applied: false`.
 */
export async function releaseCall(
  runtime: GuardRuntime,
  admission: AdmittedCall,
  reason: string,
  failure: CallFailure | undefined,
): Promise<Settlement> {
  const wasOpen = runtime.closeOpenCall(admission);
  const { lines } = admission;
  runtime.breakers.record(admission.base.provider, admission.circuitModel, admission.probe, {
    failure: failure ?? 'cancelled',
    latencyMillis: Date.now() - admission.admittedAtMs,
    costUsd: 0,
  });
  let result: SettleResult | undefined;
  try {
    result = lines.length > 0 ? await runtime.ledger.release(admission.callId) : undefined;
  } catch (error) {
    reportLedgerFailure(runtime, admission, wasOpen, 'release', undefined, error);
    return {
      usageSource: 'reservation',
      actualCostUsd: undefined,
      costDeltaUsd: undefined,
      applied: false,
      minHeadroomRatio: undefined,
    };
  }
  if (result?.applied) runtime.instances.record(lines, result.lines);
  if (runtime.events.wants('released')) {
    runtime.events.emit({
      ...admission.base,
      type: 'released',
      reservationId: admission.callId,
      reason,
      applied: result?.applied ?? true,
    });
  }
  return {
    usageSource: 'reservation',
    actualCostUsd: undefined,
    costDeltaUsd: undefined,
    applied: result?.applied ?? true,
    minHeadroomRatio: result?.applied ? minHeadroomRatio(result.lines) : undefined,
  };
}
