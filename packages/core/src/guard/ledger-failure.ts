import { diag } from '@opentelemetry/api';
import type { TokenUsage } from '../pricing/token-usage';
import type { GuardRuntime } from './guard-runtime';
import type { AdmittedCall, OpenCall } from './open-call';

/**
 * The ledger could not end a reservation. It is not lost: the ledger validated before it
 * changed anything, so the reservation stays held until its lease expires (or until a ledger
 * that retries, like Redis's, ends it), and the call stays known so the `lease-expired` event
 * names it. Reported through `diag` and a `settle-failed` event.
 */
export function reportLedgerFailure(
  runtime: GuardRuntime,
  admission: AdmittedCall,
  open: OpenCall | undefined,
  operation: 'settle' | 'release',
  usage: TokenUsage | undefined,
  error: unknown,
): void {
  if (open) runtime.keepOpenUntilLeaseEnds(admission.callId, open);
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
