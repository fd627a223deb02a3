import { context } from '@opentelemetry/api';
import type { CallGate, GuardedCall, LlmCallDescriptor } from '@tollgate/core';
import type { APIPromiseConstructor, APIPromiseLike, ResourceLike, ResponseProps } from './internal-types';
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

    let inner: APIPromiseLike | undefined;
    let call: GuardedCall | undefined;
    const responsePromise = callGate
      .begin(
        { descriptor, serverAddress: endpoint.address, serverPort: endpoint.port, streaming },
        context.active(),
      )
      .then((admitted) => {
        call = admitted;
        try {
          // A fallback rule may have chosen a cheaper model: send that one.
          const body =
            admitted.admission.model === params.model
              ? sentBody
              : { ...sentBody, model: admitted.admission.model };
          inner = context.with(admitted.context, () => original.call(this, body, options));
        } catch (error) {
          admitted.fail(error);
          throw error;
        }
        return inner.responsePromise.then(undefined, (error: unknown) => {
          admitted.fail(error);
          throw error;
        });
      });
    // The SDK's own promise is lazy: a caller who never awaits it must not crash the process on a rejection.
    responsePromise.catch(() => {});

    const parseResponse = async (client: unknown, props: ResponseProps): Promise<unknown> => {
      let parsed: unknown;
      try {
        parsed = await inner!.parseResponse(client, props);
      } catch (error) {
        call!.fail(error);
        throw error;
      }
      return observeResult(parsed, call!, { operation, model: params.model as string, hideUsageChunk });
    };
    return new APIPromise((this as unknown as { _client: unknown })._client, responsePromise, parseResponse);
  };
}
