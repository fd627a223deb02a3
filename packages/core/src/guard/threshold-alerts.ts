import { diag } from '@opentelemetry/api';
import type { ThresholdCrossing } from '../budgets/budget-ledger';
import type { PlannedLine } from '../budgets/budget-plan';
import { toDisplayUnits } from '../budgets/budget-units';
import { parseCounterKey } from '../budgets/counter-key';
import type { GuardRuntime } from './guard-runtime';

/** Counters whose exhaustion is remembered at once; past this, the expired ones are dropped. */
const MAX_EXHAUSTION_NOTES = 1_000;

/** Reports the thresholds a reservation's end crossed, as `threshold-crossed` events. */
export function emitCrossings(
  runtime: GuardRuntime,
  crossed: readonly ThresholdCrossing[],
  lines: readonly PlannedLine[] | undefined,
  callId: string | undefined,
): void {
  for (const crossing of crossed) {
    const planned = lines?.[crossing.line];
    const parsed = planned ?? parseCounterKey(crossing.key);
    const window = planned?.line.window ?? runtime.plan.windowOf(parsed.budgetId, parsed.windowStartMs);
    runtime.events.emit({
      type: 'threshold-crossed',
      timestampMs: Date.now(),
      callId,
      budgetId: parsed.budgetId,
      unit: parsed.unit,
      scope: parsed.scope,
      threshold: crossing.threshold,
      spent: toDisplayUnits(parsed.unit, crossing.spent),
      limit: toDisplayUnits(parsed.unit, crossing.limit),
      windowStartMs: parsed.windowStartMs,
      windowEndMs: window?.kind === 'calendar' ? window.endMs : undefined,
      windowKind: window?.kind ?? (parsed.windowStartMs === undefined ? 'rolling' : 'calendar'),
      costLabel: 'estimate',
    });
  }
}

/**
 * A refusal for lack of room fires the budget's 100 % threshold, once per window, through the
 * ledger (so once across processes too). Off the refusal's path; a flood of refusals asks the
 * ledger once per counter and window from this process.
 */
export function noteExhausted(
  runtime: GuardRuntime,
  planned: PlannedLine,
  resetAtMs: number,
  callId: string,
): void {
  const { line } = planned;
  if (!line.thresholds.includes(1)) return;
  const notes = runtime.exhaustionNoted;
  const nowMs = runtime.ledger.now();
  if ((notes.get(line.key) ?? 0) > nowMs) return;
  if (notes.size >= MAX_EXHAUSTION_NOTES) {
    for (const [key, untilMs] of notes) if (untilMs <= nowMs) notes.delete(key);
    if (notes.size >= MAX_EXHAUSTION_NOTES) notes.clear();
  }
  notes.set(line.key, resetAtMs);
  runtime.ledger.exhausted([line]).then(
    (crossed) => emitCrossings(runtime, crossed, [planned], callId),
    (error: unknown) => {
      notes.delete(line.key);
      diag.warn(`tollgate: could not record that budget "${planned.budgetId}" is exhausted`, error);
    },
  );
}
