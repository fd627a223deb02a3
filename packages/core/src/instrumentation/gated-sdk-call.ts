import { type Context, context } from '@opentelemetry/api';
import { withOutputCap } from '../estimate/request-output-limits';
import { sendAdmitted } from '../telemetry/admitted-request';
import type { CallGate } from '../telemetry/call-gate';
import {
  type APIPromiseConstructor,
  type APIPromiseParts,
  gatedAPIPromise,
} from '../telemetry/gated-api-promise';
import type { GatedRequest } from '../telemetry/gated-request';
import type { GuardedCall } from '../telemetry/guarded-call';

/** A request body the gate can describe: a JSON object naming its model. */
export type ModelRequestBody = Record<string, unknown> & { model: string };

/** What a provider package says about one SDK request the gate handles. */
export interface SdkCall {
  /** The call as the gate sees it. */
  request: GatedRequest;
  /**
   * The body to send, before the admitted model and output cap are written into it (e.g. with
   * stream usage asked for). @default the caller's body
   */
  sentBody?: Record<string, unknown>;
  /**
   * The body's `model` for a model a fallback rule admitted instead of the one asked for (Azure
   * OpenAI sends a deployment name there, not the priced model). @default the admitted model
   */
  sentModel?(admittedModel: string): string;
  /** Parent of the call's span. @default the active context */
  parent?: Context;
  /** Told when the gate refuses the call, before the caller sees the error. */
  onRefused?(error: unknown): void;
  /** Settles the call from its parsed result (object or stream); returns what the caller gets. */
  observe(parsed: unknown, call: GuardedCall): unknown;
}

/** The SDK request a gated call makes, once admitted. */
export interface SdkRequest {
  /** The SDK's own `APIPromise` class, from the same copy of the SDK as the client. */
  APIPromise: APIPromiseConstructor;
  client: unknown;
  /** The caller's abort signal (the SDK request options' `signal`). */
  signal?: AbortSignal | null | undefined;
  /** The caller's body. */
  body: ModelRequestBody;
  /** Makes the SDK's original request with `body`; runs inside the admitted call's context. */
  send(body: Record<string, unknown>): APIPromiseParts;
}

/**
 * The SDK's own `APIPromise` for one gated call, returned at once: the gate admits the call, then
 * the original request goes out — with the model a fallback rule chose, and the output cap the
 * reservation assumed when the caller set none — marked as admitted for any Tollgate gate it
 * passes further down; `observe` settles the call from what came back.
 */
export function gatedSdkCall<P extends APIPromiseParts>(gate: CallGate, call: SdkCall, sdk: SdkRequest): P {
  const { request, onRefused } = call;
  return gatedAPIPromise({
    APIPromise: sdk.APIPromise as APIPromiseConstructor<P>,
    client: sdk.client,
    signal: sdk.signal,
    // Methods, not arrow properties: the build names every arrow bound to a name, once per call.
    admit(callOptions) {
      const admitted = gate.begin(request, call.parent ?? context.active(), callOptions);
      return onRefused
        ? admitted.catch((error: unknown) => {
            onRefused(error);
            throw error;
          })
        : admitted;
    },
    send(admitted) {
      const { model, outputCapToSend } = admitted.admission;
      const body = call.sentBody ?? sdk.body;
      // The descriptor may name a priced model other than the body's (an Azure deployment).
      const sentModel =
        model === request.descriptor.model ? sdk.body.model : (call.sentModel?.(model) ?? model);
      const sent = withOutputCap(
        request.descriptor,
        sentModel === sdk.body.model ? body : { ...body, model: sentModel },
        outputCapToSend,
      );
      return sendAdmitted(admitted, () => sdk.send(sent));
    },
    observe: call.observe,
  });
}
