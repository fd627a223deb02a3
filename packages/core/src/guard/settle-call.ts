import { diag } from '@opentelemetry/api';
import { minHeadroomRatio } from '../budgets/budget-instances';
import type { SettleResult } from '../budgets/budget-ledger';
import { BUDGET_UNITS, type SettlementMeasure } from '../budgets/budget-units';
import { actualCostUsd, usageOrWorstCase } from '../estimate/call-estimate';
import { budgetsTouched } from '../events/budgets-touched';
import type { UsageSource } from '../events/decision-events';
import type { CallFailure } from '../policies/circuit-breaker';
import { normalizeUsage } from '../pricing/normalize-usage';
import type { TokenUsage } from '../pricing/token-usage';
import type { GuardRuntime } from './guard-runtime';
import type { Settlement } from './guard-types';
import { reportLedgerFailure } from './ledger-failure';
import type { AdmittedCall } from './open-call';
import { emitCrossings } from './threshold-alerts';

/**
 * Settlement: charges a finished call's actual usage (unknown counts at their worst case) and
 * frees the rest of its reservation; judges the call for its circuit; reports a `settled` event
 * and the thresholds the charge crossed. Never rejects: a ledger failure is reported and
 * returns `applied: false`.
 */
export async function settleCall(
  runtime: GuardRuntime,
  admission: AdmittedCall,
  usage: TokenUsage | undefined,
  source: Exclude<UsageSource, 'reservation'>,
  failure: CallFailure | undefined,
): Promise<Settlement> {
  const wasOpen = runtime.closeOpenCall(admission);
  const { lines } = admission;
  const durationMillis = Date.now() - admission.admittedAtMs;
  if (usage !== undefined) {
    // One boundary for every source of usage: garbage must neither throw midway through a
    // settlement nor reach a ledger that only adds exact integers.
    const normalized = normalizeUsage(usage);
    usage = normalized.usage;
    if (normalized.adjustments.length > 0) {
      diag.warn(
        `tollgate: usage of call ${admission.callId} (${admission.base.model}) adjusted before settling: ` +
          normalized.adjustments.join('; '),
      );
    }
  }
  const effective = usageOrWorstCase(usage, admission.estimate);
  const usageSource: UsageSource = usage === undefined ? 'reservation' : source;
  const costUsd = actualCostUsd(effective, admission.estimate);
  runtime.breakers.record(admission.base.provider, admission.circuitModel, admission.probe, {
    failure,
    latencyMillis: durationMillis,
    costUsd: costUsd ?? 0,
  });
  const measure: SettlementMeasure = {
    usageReported: usage !== undefined,
    costUsd,
    tokens: effective.inputTokens + effective.outputTokens,
  };
  const amounts = lines.map((planned) => BUDGET_UNITS[planned.unit].charge(measure) ?? planned.line.amount);
  let result: SettleResult | undefined;
  try {
    if (lines.length > 0) {
      result =
        runtime.settleNow(admission.callId, amounts) ??
        (await runtime.ledger.settle(admission.callId, amounts));
    }
  } catch (error) {
    reportLedgerFailure(runtime, admission, wasOpen, 'settle', effective, error);
    return {
      usageSource,
      actualCostUsd: costUsd,
      costDeltaUsd: undefined,
      applied: false,
      minHeadroomRatio: undefined,
    };
  }
  const applied = result?.applied ?? true;
  const costDeltaUsd =
    costUsd !== undefined && admission.estimate.worstCaseUsd !== undefined
      ? costUsd - admission.estimate.worstCaseUsd
      : undefined;
  if (runtime.events.wants('settled')) {
    runtime.events.emit({
      ...admission.base,
      type: 'settled',
      reservationId: admission.callId,
      usage: effective,
      usageSource,
      actualCostUsd: costUsd,
      costDeltaUsd,
      budgets: budgetsTouched(lines, amounts),
      applied,
      durationMillis,
    });
  }
  if (result) emitCrossings(runtime, result.crossed, lines, admission.callId);
  if (result?.applied) runtime.instances.record(lines, result.lines);
  return {
    usageSource,
    actualCostUsd: costUsd,
    costDeltaUsd,
    applied,
    minHeadroomRatio: result?.applied ? minHeadroomRatio(result.lines) : undefined,
  };
}
