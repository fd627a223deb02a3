import { context } from '@opentelemetry/api';
import { type CallGate, gatedAPIPromise, type LlmCallDescriptor, withOutputCap } from '@tollgate/core';
import type { APIPromiseConstructor, APIPromiseLike, ResourceLike } from './internal-types';
import { type OpenAIOperation, observeResult } from './result-observers';
import type { OpenAIInstrumentationConfig } from './types';
import { asRecord, describeEndpoint } from './utils';

type CreateMethod = (this: ResourceLike, body: unknown, options?: unknown) => APIPromiseLike;

/**
 * Wraps a resource's `create()` so the gate runs before the SDK builds the request, while
 * `create()` still returns the SDK's own `APIPromise` synchronously: one built around a
 * response promise that only starts the original request once the call is admitted.
 * `withResponse()`, `asResponse()`, `_thenUnwrap()` helpers and `instanceof APIPromise`
 * keep working because the promise is the SDK's class, built the SDK's way.
 */
export function gatedCreate(
  original: CreateMethod,
  operation: OpenAIOperation,
  gate: () => CallGate | undefined,
  config: () => OpenAIInstrumentationConfig,
  APIPromise: APIPromiseConstructor,
): CreateMethod {
  return function create(this: ResourceLike, body: unknown, options?: unknown): APIPromiseLike {
    const callGate = gate();
    const params = asRecord(body);
    // Without a gate or with a body the SDK itself will reject, step aside and let the SDK speak.
    if (!callGate || !params || typeof params.model !== 'string') return original.call(this, body, options);

    const endpoint = describeEndpoint(this._client?.baseURL);
    const settings = config();
    const streaming = params.stream === true;
    const streamOptions = asRecord(params.stream_options);
    const hideUsageChunk =
      operation === 'chat' &&
      streaming &&
      settings.includeStreamUsage !== false &&
      streamOptions?.include_usage !== true;
    const sentBody = hideUsageChunk
      ? { ...params, stream_options: { ...streamOptions, include_usage: true } }
      : params;
    const descriptor: LlmCallDescriptor = {
      provider: settings.providerName ?? endpoint.provider,
      operation,
      model: params.model,
      body: params,
    };

    const client = (this as unknown as { _client: unknown })._client;
    return gatedAPIPromise({
      APIPromise,
      client,
      signal: (options as { signal?: AbortSignal } | undefined)?.signal,
      admit: (callOptions) =>
        callGate.begin(
          { descriptor, serverAddress: endpoint.address, serverPort: endpoint.port, streaming },
          context.active(),
          callOptions,
        ),
      // A fallback rule may have chosen a cheaper model: send that one. The output cap the
      // reservation assumed goes into the request when the caller set none.
      send: (call) =>
        original.call(
          this,
          withOutputCap(
            descriptor,
            call.admission.model === params.model ? sentBody : { ...sentBody, model: call.admission.model },
            call.admission.outputCapToSend,
          ),
          options,
        ),
      observe: (parsed, call) => observeResult(parsed, call, { operation, hideUsageChunk }),
    });
  };
}
