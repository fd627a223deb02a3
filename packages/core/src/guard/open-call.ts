import type { PlannedLine } from '../budgets/budget-plan';
import type { CallEstimate } from '../estimate/call-estimate';
import type { CallDecisionBase } from '../events/decision-events';
import type { LimiterPermit } from '../limits/rate-limiter';

/** What ending an admitted call (settle, release, lease expiry) needs to know about it. */
export interface AdmittedCall {
  readonly callId: string;
  readonly base: CallDecisionBase;
  readonly estimate: CallEstimate;
  readonly lines: PlannedLine[];
  readonly permit: LimiterPermit;
  readonly admittedAtMs: number;
  /** A half-open circuit's probe: its outcome decides whether the circuit closes. */
  readonly probe: boolean;
  /** The model the call's circuit is keyed by. */
  readonly circuitModel: string;
  /** The lease ran out: free the limiter slot; a later settle or release reports `applied: false`. */
  expire(): void;
}
