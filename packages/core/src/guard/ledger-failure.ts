import { diag } from '@opentelemetry/api';
import type { TokenUsage } from '../pricing/token-usage';
import type { GuardRuntime } from './guard-runtime';
import type { AdmittedCall } from './open-call';

/**
 * The ledger could not end a reservation. It is not lost: the ledger validated before it
 * changed anything, so the reservation stays held until its lease expires (or until a ledger
 * that retries, like a shared store's, ends it), and the call stays known so the `lease-expired` event
 * names it. Reported through `diag` and a `settle-failed` event.
 */
export function reportLedgerFailure(
  runtime: GuardRuntime,
  admission: AdmittedCall,
  /** Whether the call was still open (not already ended by its lease). */
  wasOpen: boolean,
  operation: 'settle' | 'release',
  usage: TokenUsage | undefined,
  error: unknown,
): void {
  if (wasOpen) runtime.keepOpenUntilLeaseEnds(admission);
  const message = error instanceof Error ? error.message : String(error);
  diag.error(
    `tollgate: the ledger failed to ${operation} reservation ${admission.callId} (${admission.base.model}); ` +
      `it stays held until its lease expires (${runtime.ledger.leaseExpiry ?? 'store policy'}): ${message}`,
  );
  runtime.events.emit({
    ...admission.base,
    type: 'settle-failed',
    reservationId: admission.callId,
    operation,
    usage,
    error: message,
    leaseExpiry: runtime.ledger.leaseExpiry,
  });
}
