import { context } from '@opentelemetry/api';
import { type OperationName, withOutputCap } from '@tollgate/core';
import {
  type CallGate,
  claimAdmittedRequest,
  endpointOf,
  type GatedRequest,
  type GuardedCall,
  sendAdmitted,
} from '@tollgate/core/instrumentation';
import type { ApiClientLike, ModelParams, ModelsLike, RequestMethod } from './internal-types';
import { observeGenerateContentStream, settleEmbedContent, settleGenerateContent } from './result-observers';
import { GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI, GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI } from './semconv';
import type { GoogleGenAIInstrumentationConfig } from './types';
import { asRecord, bareModelId, embeddedTexts, retryDelayMillis } from './utils';

/** What every wrapper needs from the instrumentation, read at call time. */
export interface GateAccess {
  gate(): CallGate | undefined;
  config(): GoogleGenAIInstrumentationConfig;
  /** Hooks the client's request function, where the response cache replays a hit (once per class). */
  hookRequests(apiClient: ApiClientLike | undefined): void;
}

/** Parameters the gate can describe; anything else goes to the SDK untouched, to reject in its own words. */
function modelParams(params: unknown): ModelParams | undefined {
  const record = asRecord(params);
  return record && typeof record.model === 'string' ? (record as ModelParams) : undefined;
}

function abortSignalOf(params: ModelParams): AbortSignal | undefined {
  const signal = asRecord(params.config)?.abortSignal;
  return signal instanceof AbortSignal ? signal : undefined;
}

/** What the gate is told about one request of `models`. */
export function describeRequest(
  models: ModelsLike,
  operation: OperationName,
  body: Record<string, unknown> & { model: string },
  streaming: boolean,
  config: GoogleGenAIInstrumentationConfig,
): GatedRequest {
  const client = models.apiClient;
  const vertex = client?.isVertexAI?.() === true;
  const endpoint = endpointOf(client?.getBaseUrl?.());
  return {
    descriptor: {
      provider:
        config.providerName ??
        (vertex ? GEN_AI_PROVIDER_NAME_VALUE_GCP_VERTEX_AI : GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI),
      operation,
      model: bareModelId(body.model),
      body,
    },
    serverAddress: endpoint.address,
    serverPort: endpoint.port,
    streaming,
  };
}

/** Admits a call; an abort while it waits at the gate rejects with the signal's reason, as the SDK's fetch would. */
function admit(gate: CallGate, request: GatedRequest, signal: AbortSignal | undefined): Promise<GuardedCall> {
  return gate.begin(request, context.active(), signal ? { signal } : {}).catch((error: unknown) => {
    throw signal?.aborted ? (signal.reason ?? error) : error;
  });
}

/**
 * Runs the SDK's original request for an admitted call, in its context, marked as that call's
 * request. Its outcome is recorded as the call's attempt: a provider error's status, and the wait
 * a 429's `RetryInfo` asks for, which pauses the model in the limiter so the next calls back off.
 * A failed request ends the call (its reservation released) and rethrows the SDK's error.
 */
async function send<T>(call: GuardedCall, request: () => Promise<T>): Promise<T> {
  try {
    const result = await context.with(call.context, () => sendAdmitted(call, request));
    // A reply from the response cache was no attempt at the provider.
    if (!call.answeredFromCache) call.recordAttempt(undefined, 200);
    return result;
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === 'number') {
      const delay = retryDelayMillis(error);
      call.recordAttempt(
        delay === undefined ? undefined : new Headers({ 'retry-after-ms': String(delay) }),
        status,
      );
    }
    call.fail(error);
    throw error;
  }
}

/** The parameters to send: the admitted model (a fallback rule may have picked another) and the reserved cap. */
function admittedParams(params: ModelParams, request: GatedRequest, call: GuardedCall): ModelParams {
  const { model, outputCapToSend } = call.admission;
  const chosen = model === request.descriptor.model ? params : { ...params, model };
  return withOutputCap(request.descriptor, chosen, outputCapToSend);
}

/**
 * Wraps `Models.prototype.generateContentInternal`, which sends exactly one `:generateContent`
 * request: every request a call makes (each automatic-function-calling round, each continuation)
 * is gated and settled on its own. A refusal rejects before the request is built, with the typed
 * error, and `generateContent()` rejects with it.
 */
export function gatedGenerateContent(original: RequestMethod, access: GateAccess): RequestMethod {
  return async function generateContentInternal(this: ModelsLike, params: unknown): Promise<unknown> {
    const gate = access.gate();
    const body = modelParams(params);
    if (!gate || !body || claimAdmittedRequest()) return original.call(this, params);
    const request = describeRequest(this, 'generate_content', body, false, access.config());
    access.hookRequests(this.apiClient);
    const call = await admit(gate, request, abortSignalOf(body));
    const response = await send(call, () => original.call(this, admittedParams(body, request, call)));
    settleGenerateContent(response, call);
    return response;
  };
}

/**
 * Wraps `Models.prototype.generateContentStreamInternal`, which opens one
 * `:streamGenerateContent` request and resolves to the SDK's chunk generator once the response
 * starts; the caller gets an async generator over the same chunks that settles when it ends.
 */
export function gatedGenerateContentStream(original: RequestMethod, access: GateAccess): RequestMethod {
  return async function generateContentStreamInternal(this: ModelsLike, params: unknown): Promise<unknown> {
    const gate = access.gate();
    const body = modelParams(params);
    if (!gate || !body || claimAdmittedRequest()) return original.call(this, params);
    const request = describeRequest(this, 'generate_content', body, true, access.config());
    access.hookRequests(this.apiClient);
    const call = await admit(gate, request, abortSignalOf(body));
    const stream = await send(call, () => original.call(this, admittedParams(body, request, call)));
    if (typeof (stream as AsyncIterable<unknown> | undefined)?.[Symbol.asyncIterator] !== 'function') {
      settleGenerateContent(stream, call);
      return stream;
    }
    return observeGenerateContentStream(stream as AsyncIterable<unknown>, call);
  };
}

/**
 * Wraps `Models.prototype.embedContentInternal` (`:batchEmbedContents` on the Gemini API,
 * `:predict` or `:embedContent` on Vertex AI). The gate sees the embedded text as an
 * embeddings request's `input`, which is what it is billed for.
 */
export function gatedEmbedContent(original: RequestMethod, access: GateAccess): RequestMethod {
  return async function embedContentInternal(this: ModelsLike, params: unknown): Promise<unknown> {
    const gate = access.gate();
    const body = modelParams(params);
    if (!gate || !body || claimAdmittedRequest()) return original.call(this, params);
    const described = { model: body.model, input: embeddedTexts(body) };
    // The described body is a summary (the texts): the whole parameters key the response cache.
    const request = {
      ...describeRequest(this, 'embeddings', described, false, access.config()),
      cacheKeyBody: body,
    };
    access.hookRequests(this.apiClient);
    const call = await admit(gate, request, abortSignalOf(body));
    const { model } = call.admission;
    const sent = model === request.descriptor.model ? body : { ...body, model };
    const response = await send(call, () => original.call(this, sent));
    settleEmbedContent(response, call);
    return response;
  };
}
