// The kit provider instrumentations are built on (`@tollgate/core/instrumentation`). It loads
// @opentelemetry/instrumentation, which the main entry never does.

// The call gate (one per instrumentation), the guarded call (one per provider call), and the call each HTTP attempt belongs to
export type { ActiveCall } from '../telemetry/active-call';
export { activeGuardedCall, replayAttempts } from '../telemetry/active-call';
export { claimAdmittedRequest, sendAdmitted } from '../telemetry/admitted-request';
export { CallGate } from '../telemetry/call-gate';
// The SDK's own promise and stream, gated and observed; the endpoint a call's span records
export { deferredAPIPromise, isThenable } from '../telemetry/deferred-api-promise';
export type { Endpoint } from '../telemetry/endpoint';
export { endpointOf } from '../telemetry/endpoint';
export type {
  APIPromiseConstructor,
  APIPromiseParts,
  GatedAPIPromiseOptions,
} from '../telemetry/gated-api-promise';
export { gatedAPIPromise } from '../telemetry/gated-api-promise';
export type { GatedRequest, ResponseDetails } from '../telemetry/gated-request';
export { GuardedCall } from '../telemetry/guarded-call';
// Living next to other instrumentations; process warnings; span and metric names
export type { MethodHost } from '../telemetry/method-wrapper';
export {
  hasForeignWrapper,
  hasOwnWrapper,
  methodHost,
  unwrapMethod,
  wrapMethod,
} from '../telemetry/method-wrapper';
export type { IterableSdkStream, StreamObserver, StreamOutcome } from '../telemetry/observed-stream';
export { isSdkStream, observeSdkStream } from '../telemetry/observed-stream';
export type { TollgateWarningCode } from '../telemetry/process-warning';
export { emitTollgateWarning } from '../telemetry/process-warning';
export * as semconv from '../telemetry/semconv';
export { errorType } from '../telemetry/span-outcome';
// A gate on the client's post(), and the SDK's own APIPromise around one gated call
export type { GatedPostOptions, PostMethod } from './gated-post';
export { gatedPost } from './gated-post';
export type { ModelRequestBody, SdkCall, SdkRequest } from './gated-sdk-call';
export { gatedSdkCall } from './gated-sdk-call';
// Reading the loosely typed results and events SDKs hand back
export { asRecord, stringOf, tokenCount } from './response-fields';
// The base class: config checks, gate lifecycle, module hook, target table, fetch wrap
export type {
  LoadedSdk,
  OptionRule,
  SdkClass,
  SdkDescription,
  SdkTarget,
  TollgateInstrumentationConfig,
} from './sdk-description';
export { TollgateInstrumentation } from './tollgate-instrumentation';
