import { context } from '@opentelemetry/api';
import { type LlmCallDescriptor, withOutputCap } from '@tollgate/core';
import {
  type CallGate,
  claimAdmittedRequest,
  deferredAPIPromise,
  gatedAPIPromise,
  isThenable,
  sendAdmitted,
} from '@tollgate/core/instrumentation';
import type { APIPromiseConstructor, APIPromiseLike, ClientLike } from './internal-types';
import { type OpenAIOperation, observeResult } from './result-observers';
import type { OpenAIInstrumentationConfig } from './types';
import { asRecord, describeEndpoint } from './utils';

type PostMethod = (this: ClientLike, path: string, opts?: unknown) => APIPromiseLike;

/** The request paths `create()` posts to, per operation; every other request passes untouched. */
const GATED_PATHS: Readonly<Record<string, OpenAIOperation>> = {
  '/chat/completions': 'chat',
  '/responses': 'responses',
  '/embeddings': 'embeddings',
  '/completions': 'text_completion',
};

/** The operation a `post(path)` request performs, when it is one the gate handles. */
export function gatedOperation(path: unknown): OpenAIOperation | undefined {
  return typeof path === 'string' && Object.hasOwn(GATED_PATHS, path) ? GATED_PATHS[path] : undefined;
}

export interface GatedPostOptions {
  gate: () => CallGate | undefined;
  config: () => OpenAIInstrumentationConfig;
  APIPromise: APIPromiseConstructor;
  /** Told about each call the gate is about to handle, before it is admitted. */
  onGatedCall?: (operation: OpenAIOperation) => void;
}

/**
 * Wraps the client's `post()`, the one method every `create()` (chat, responses, embeddings,
 * completions) sends its request through. Other instrumentations wrap the resources' `create()`
 * and, through `InstrumentationBase._wrap`, unwrap whatever wrapper sat there before; none
 * touches `post()`, so the gate holds whatever wraps `create()`, in any order.
 *
 * The gate runs before the SDK builds the request, while `post()` still returns the SDK's own
 * `APIPromise` synchronously: one built around a response promise that only starts the original
 * request once the call is admitted. `withResponse()`, `asResponse()`, `_thenUnwrap()` (which
 * `responses.create()` and `embeddings.create()` call on it) and `instanceof APIPromise` keep
 * working because the promise is the SDK's class, built the SDK's way.
 */
export function gatedCreate(original: PostMethod, gated: GatedPostOptions): PostMethod {
  return function post(this: ClientLike, path: string, opts?: unknown): APIPromiseLike {
    const operation = gatedOperation(path);
    const callGate = operation ? gated.gate() : undefined;
    // Not a call the gate handles, or the request an outer Tollgate gate already admitted: untouched.
    if (!operation || !callGate || claimAdmittedRequest()) return original.call(this, path, opts);
    // The SDK's type allows a promise of the options, and openai 7's create() passes one.
    if (isThenable(opts)) {
      return deferredAPIPromise(gated.APIPromise, this, opts, (resolved) => post.call(this, path, resolved));
    }

    const options = asRecord(opts);
    const params = asRecord(options?.body);
    // Without a body the gate can describe, step aside and let the SDK (or the API) speak.
    if (!options || !params || typeof params.model !== 'string') return original.call(this, path, opts);
    gated.onGatedCall?.(operation);

    const endpoint = describeEndpoint(this.baseURL);
    const settings = gated.config();
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

    return gatedAPIPromise({
      APIPromise: gated.APIPromise,
      client: this,
      signal: (options as { signal?: AbortSignal }).signal,
      admit: (callOptions) =>
        callGate.begin(
          { descriptor, serverAddress: endpoint.address, serverPort: endpoint.port, streaming },
          context.active(),
          callOptions,
        ),
      // A fallback rule may have chosen a cheaper model: send that one. The output cap the
      // reservation assumed goes into the request when the caller set none.
      send: (call) =>
        sendAdmitted(call, () =>
          original.call(this, path, {
            ...options,
            body: withOutputCap(
              descriptor,
              call.admission.model === params.model ? sentBody : { ...sentBody, model: call.admission.model },
              call.admission.outputCapToSend,
            ),
          }),
        ),
      observe: (parsed, call) => observeResult(parsed, call, { operation, hideUsageChunk }),
    });
  };
}
