import type { ExpiredReservation } from '../budgets/budget-ledger';
import { toDisplayUnits } from '../budgets/budget-units';
import { parseCounterKey } from '../budgets/counter-key';
import type { BudgetTouched } from '../events/decision-events';
import type { GuardRuntime } from './guard-runtime';
import { emitCrossings } from './threshold-alerts';

/**
 * Starts the timer that asks the ledger for reservations whose lease ran out, several times
 * per lease; it does not keep the process alive. Stop it with `clearInterval`.
 */
export function startLeaseExpiryTimer(runtime: GuardRuntime): NodeJS.Timeout {
  const timer = setInterval(
    () => void collectExpired(runtime),
    Math.min(1000, runtime.config.leaseMillis / 4),
  );
  timer.unref();
  return timer;
}

/** Ends the calls whose lease expired and reports each as a `lease-expired` event. */
async function collectExpired(runtime: GuardRuntime): Promise<void> {
  let expired: ExpiredReservation[];
  try {
    expired = await runtime.ledger.collectExpired();
  } catch {
    return; // The next tick retries; the store's own lease handling still applies.
  }
  for (const reservation of expired) {
    const open = runtime.openCalls.get(reservation.reservationId);
    runtime.openCalls.delete(reservation.reservationId);
    open?.expire();
    const budgets: BudgetTouched[] = reservation.keys.map((key, index) => {
      const parsed = parseCounterKey(key);
      return {
        budgetId: parsed.budgetId,
        unit: parsed.unit,
        scope: parsed.scope,
        reserved: toDisplayUnits(parsed.unit, reservation.charged[index] ?? 0),
      };
    });
    runtime.events.emit({
      type: 'lease-expired',
      timestampMs: Date.now(),
      callId: open ? reservation.reservationId : undefined,
      reservationId: reservation.reservationId,
      policy: reservation.policy,
      budgets,
    });
    emitCrossings(runtime, reservation.crossed, open?.lines, open ? reservation.reservationId : undefined);
  }
}
