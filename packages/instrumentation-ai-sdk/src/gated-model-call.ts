import { context } from '@opentelemetry/api';
import { type OperationName, withOutputCap } from '@tollgate/core';
import {
  type CallGate,
  endpointOf,
  type GatedRequest,
  type GuardedCall,
  sendAdmitted,
} from '@tollgate/core/instrumentation';
import { markAdmittedModelCall } from './admitted-model-calls';
import type { CallOptions, EmbedOptions } from './internal-types';
import { admittedModel, type CallRouting } from './model-routing';
import { settleEmbed, settleGenerate } from './result-observers';
import { observeStreamResult } from './stream-observer';
import { asRecord, baseUrlOf, headersOf, statusOf, tollgateProviderName } from './utils';

/** What identifies a model: every AI SDK model (language or embedding) has these. */
export interface ModelIdentity {
  readonly provider: string;
  readonly modelId: string;
  readonly config?: unknown;
}

/** Runs the model's own call on `model` (the one asked for, or the one the admission chose). */
export type ModelRun<Options> = (model: object, options: Options) => PromiseLike<unknown>;

/** What the gate is told about one call of `model`. */
export function describeModelCall(
  model: ModelIdentity,
  operation: OperationName,
  body: Record<string, unknown>,
  streaming: boolean,
  routing: CallRouting,
): GatedRequest {
  const endpoint = endpointOf(baseUrlOf(model));
  return {
    descriptor: {
      provider: routing.providerName ?? tollgateProviderName(model.provider),
      operation,
      model: model.modelId,
      body,
      // Every AI SDK language model takes the same call: a routing rule may send it to another
      // provider's model, one with a registered model object.
      ...(routing.reach && operation === 'ai_sdk' ? { substitutes: routing.reach } : {}),
    },
    serverAddress: endpoint.address,
    serverPort: endpoint.port,
    streaming,
  };
}

/** Admits a call; an abort while it waits at the gate rejects with the signal's reason, as the provider's fetch would. */
function admit(
  gate: CallGate,
  request: GatedRequest,
  options: Record<string, unknown>,
): Promise<GuardedCall> {
  const signal = options.abortSignal instanceof AbortSignal ? options.abortSignal : undefined;
  return gate.begin(request, context.active(), signal ? { signal } : {}).catch((error: unknown) => {
    throw signal?.aborted ? (signal.reason ?? error) : error;
  });
}

/**
 * Runs the model call of an admitted call on the model the admission chose, in the call's
 * context, marked as that call's request. A provider error (the AI SDK's `APICallError`) is
 * recorded as the call's attempt with its status and headers, so a 429's `retry-after` pauses
 * the model in the limiter; the call then ends (its reservation released) and the error is
 * rethrown unchanged for the AI SDK to retry or report.
 */
async function send<Options>(
  call: GuardedCall,
  model: object & ModelIdentity,
  request: GatedRequest,
  routing: CallRouting,
  options: Options,
  run: ModelRun<Options>,
): Promise<unknown> {
  try {
    const target = admittedModel(model, request, call, routing);
    markAdmittedModelCall(call);
    const result = await context.with(call.context, () => sendAdmitted(call, () => run(target, options)));
    call.recordAttempt(headersOf(asRecord(asRecord(result)?.response)?.headers), 200);
    return result;
  } catch (error) {
    const status = statusOf(error);
    if (status !== undefined) call.recordAttempt(headersOf(asRecord(error)?.responseHeaders), status);
    call.fail(error);
    throw error;
  }
}

/**
 * Gates one `doGenerate`: admitted (or refused with a typed error, before any request exists),
 * sent with the reserved output cap when the caller set no `maxOutputTokens`, and settled from
 * the result's `usage`.
 */
export async function gatedGenerate(
  gate: CallGate,
  model: object & ModelIdentity,
  options: CallOptions,
  routing: CallRouting,
  run: ModelRun<CallOptions>,
): Promise<unknown> {
  const { call, result } = await admitAndSend(gate, model, options, routing, run, false);
  settleGenerate(result, call);
  return result;
}

/**
 * Gates one `doStream`: admitted and sent like `doGenerate`; the result's `stream` is handed on
 * observed, every part passed through as it arrives, and the call settles from its `finish` part.
 */
export async function gatedStream(
  gate: CallGate,
  model: object & ModelIdentity,
  options: CallOptions,
  routing: CallRouting,
  run: ModelRun<CallOptions>,
): Promise<unknown> {
  const { call, result } = await admitAndSend(gate, model, options, routing, run, true);
  return observeStreamResult(result, call);
}

/** Admits a model call and sends it, with the reserved output cap when the caller set none. */
async function admitAndSend(
  gate: CallGate,
  model: object & ModelIdentity,
  options: CallOptions,
  routing: CallRouting,
  run: ModelRun<CallOptions>,
  streaming: boolean,
): Promise<{ call: GuardedCall; result: unknown }> {
  const request = describeModelCall(model, 'ai_sdk', options, streaming, routing);
  const call = await admit(gate, request, options);
  const sent = withOutputCap(request.descriptor, options, call.admission.outputCapToSend);
  return { call, result: await send(call, model, request, routing, sent, run) };
}

/**
 * Gates one `doEmbed`. The gate sees the embedded values as an embeddings request's `input`,
 * which is what it is billed for; the call settles from the reported `usage.tokens`, else from
 * the pre-call count. Embeddings are never sent to another provider.
 */
export async function gatedEmbed(
  gate: CallGate,
  model: object & ModelIdentity,
  options: EmbedOptions,
  routing: CallRouting,
  run: ModelRun<EmbedOptions>,
): Promise<unknown> {
  const values = Array.isArray(options.values) ? options.values : [];
  const input = values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
  const request = describeModelCall(model, 'embeddings', { model: model.modelId, input }, false, routing);
  const call = await admit(gate, request, options);
  const result = await send(call, model, request, { ...routing, models: undefined }, options, run);
  settleEmbed(result, call);
  return result;
}
