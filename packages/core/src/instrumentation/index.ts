// The kit provider instrumentations are built on (`@tollgate/core/instrumentation`).

// The call gate: one per instrumentation, one guarded call per provider call
export type { GatedRequest, ResponseDetails } from '../telemetry/call-gate';
export { CallGate, errorType, GuardedCall } from '../telemetry/call-gate';
export * as semconv from '../telemetry/semconv';
