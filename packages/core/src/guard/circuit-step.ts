import { CircuitOpenError } from '../errors/circuit-open-error';
import { reportRefusal } from '../events/refusals';
import type { GuardRuntime } from './guard-runtime';
import type { PlannedCall } from './planned-call';

/** The circuit step: refuses the call at once when its circuit is open; returns whether it is a half-open probe. */
export function passCircuit(runtime: GuardRuntime, planned: PlannedCall): boolean {
  try {
    return runtime.breakers.admit(planned.subject.provider, planned.subject.model);
  } catch (error) {
    if (CircuitOpenError.isInstance(error)) reportRefusal(runtime.events, planned.base, error);
    throw error;
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
