import { CircuitOpenError } from '../errors/circuit-open-error';
import { reportRefusal } from '../events/refusals';
import { type RuleSubject, routesAroundOpenCircuit } from '../policies/degradation';
import type { GuardRuntime } from './guard-runtime';
import type { PlannedCall } from './planned-call';

/** How a call passed its circuit. */
export interface CircuitPass {
  /** The call is a half-open circuit's probe, whose outcome decides whether the circuit closes. */
  probe: boolean;
  /** The circuit is open, but a routing rule can serve the call elsewhere: the rules step must switch it. */
  open: CircuitOpenError | undefined;
}

/** The circuit step: refuses the call at once when its circuit is open; returns whether it is a half-open probe. */
export function passCircuit(runtime: GuardRuntime, planned: PlannedCall): boolean {
  // With no rule to route by, an open circuit is always refused and reported.
  return enterCircuit(runtime, planned, undefined).probe;
}

/**
 * The circuit step for the requested model: as `passCircuit`, except that an open circuit
 * is handed on, unreported, when a routing rule (a fallback with `circuitOpen`, or `cheapest`)
 * can send the call elsewhere.
 * No probe slot is taken in that case, so none needs handing back.
 */
export function enterCircuit(
  runtime: GuardRuntime,
  planned: PlannedCall,
  subject: RuleSubject | undefined,
): CircuitPass {
  try {
    return {
      probe: runtime.breakers.admit(planned.subject.provider, planned.subject.model),
      open: undefined,
    };
  } catch (error) {
    if (!CircuitOpenError.isInstance(error)) throw error;
    if (subject && routesAroundOpenCircuit(runtime.config.policies, { ...subject, circuitOpen: true }))
      return { probe: false, open: error };
    throw reportRefusal(runtime.events, planned.base, error);
  }
}

/** A probe slot taken for a call that a later step refused goes back unjudged. */
export function releaseProbe(runtime: GuardRuntime, planned: PlannedCall, probe: boolean): void {
  if (probe)
    runtime.breakers.record(planned.subject.provider, planned.subject.model, true, {
      failure: 'cancelled',
      latencyMillis: 0,
      costUsd: 0,
    });
}
