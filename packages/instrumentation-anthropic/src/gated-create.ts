import {
  type APIPromiseConstructor,
  type CallGate,
  endpointOf,
  type GatedRequest,
  gatedSdkCall,
  type ModelRequestBody,
} from '@tollgate/core/instrumentation';
import type { APIPromiseLike, ClientLike, ResourceLike } from './internal-types';
import { observeResult } from './result-observers';
import { withoutSdkSpans } from './sdk-spans';
import { GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC } from './semconv';
import type { AnthropicInstrumentationConfig } from './types';
import { asRecord } from './utils';

type CreateMethod = (this: ResourceLike, body: unknown, options?: unknown) => APIPromiseLike;
type StreamMethod = (this: ResourceLike, body: unknown, options?: unknown) => unknown;

/** The body is one the gate can describe; anything else goes to the SDK untouched, to reject in its own words. */
export function gatedBody(body: unknown): ModelRequestBody | undefined {
  const params = asRecord(body);
  return params && typeof params.model === 'string' ? (params as ModelRequestBody) : undefined;
}

/** What the gate is told about a Messages call. */
export function describeCall(
  client: ClientLike | undefined,
  params: ModelRequestBody,
  settings: AnthropicInstrumentationConfig,
): GatedRequest {
  const endpoint = endpointOf(client?.baseURL);
  return {
    descriptor: {
      provider: settings.providerName ?? GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
      operation: 'messages',
      model: params.model,
      body: params,
    },
    serverAddress: endpoint.address,
    serverPort: endpoint.port,
    streaming: params.stream === true,
  };
}

/**
 * Wraps `messages.create()` (and `beta.messages.create()`) so the gate runs before the SDK
 * builds the request, while `create()` still returns the SDK's own `APIPromise` synchronously:
 * one built around a response promise that only starts the original request once the call is
 * admitted. `withResponse()` (which the stream helpers use), `asResponse()`, `_thenUnwrap()`
 * and `instanceof APIPromise` keep working because the promise is the SDK's
 * class, built the SDK's way.
 */
export function gatedCreate(
  original: CreateMethod,
  gate: () => CallGate | undefined,
  config: () => AnthropicInstrumentationConfig,
  APIPromise: APIPromiseConstructor,
): CreateMethod {
  return function create(this: ResourceLike, body: unknown, options?: unknown): APIPromiseLike {
    const callGate = gate();
    const params = gatedBody(body);
    if (!callGate || !params) return original.call(this, body, options);

    const client = this._client;
    const settings = config();
    // Started inside the call's context, the SDK's span (when the client emits one) is a child of ours.
    const send = (sent: Record<string, unknown>) => original.call(this, sent, options);
    return gatedSdkCall(
      callGate,
      { request: describeCall(client, params, settings), observe: observeResult },
      {
        APIPromise,
        client,
        signal: (options as { signal?: AbortSignal } | undefined)?.signal,
        body: params,
        // Passing the client's post() below, this request is recognised as the admitted one.
        send: (sent) =>
          settings.sdkSpans === 'suppress' ? withoutSdkSpans(client, () => send(sent)) : send(sent),
      },
    );
  };
}

/**
 * Wraps `messages.stream()` (and `beta.messages.stream()`). The helper would start the SDK's
 * span itself, at once and outside the gate, then hand it to `create()`; with the helper's
 * span start skipped, the `create()` call it makes — gated — starts that span inside the
 * call's context instead, as for any other call. The stream helper itself is not gated: the
 * `create()` call it makes is.
 */
export function deferredHelperSpan(original: StreamMethod, gate: () => CallGate | undefined): StreamMethod {
  return function stream(this: ResourceLike, body: unknown, options?: unknown): unknown {
    if (!gate() || !gatedBody(body)) return original.call(this, body, options);
    return withoutSdkSpans(this._client, () => original.call(this, body, options));
  };
}
