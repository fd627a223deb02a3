import {
  type APIPromiseConstructor,
  type CallGate,
  gatedPost,
  type ModelRequestBody,
  type PostMethod,
  type SdkCall,
} from '@tollgate/core/instrumentation';
import { deployedModel, deploymentFor, deploymentOf, isAzureClient } from './azure-deployments';
import type { ClientLike } from './internal-types';
import { providerOf } from './provider-identity';
import { type OpenAIOperation, observeResult } from './result-observers';
import type { OpenAIInstrumentationConfig } from './types';
import { asRecord, describeEndpoint } from './utils';

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

export interface GatedCreateOptions {
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
 * `post()` still returns the SDK's own `APIPromise`, built the SDK's way, so `withResponse()`,
 * `asResponse()`, `_thenUnwrap()` (which `responses.create()` and `embeddings.create()` call on
 * it) and `instanceof APIPromise` keep working.
 */
export function gatedCreate(
  original: PostMethod<ClientLike>,
  gated: GatedCreateOptions,
): PostMethod<ClientLike> {
  return gatedPost<ClientLike>(original, {
    gate: gated.gate,
    APIPromise: gated.APIPromise,
    gates: (path) => gatedOperation(path) !== undefined,
    describe: (client, path, params) => {
      const operation = gatedOperation(path)!;
      gated.onGatedCall?.(operation);
      return describeCall(
        client,
        operation,
        params,
        gated.config(),
        providerOf(client, gated.config(), gated.gate()?.guard),
      );
    },
  });
}

/** What the gate is told about a call, and the body sent for it. */
function describeCall(
  client: ClientLike,
  operation: OpenAIOperation,
  params: ModelRequestBody,
  settings: OpenAIInstrumentationConfig,
  provider: string,
): SdkCall {
  const endpoint = describeEndpoint(client.baseURL);
  const azure = isAzureClient(client);
  // An Azure deployment is priced, budgeted and limited as the model configured for it.
  const model =
    (azure &&
      settings.deployments !== undefined &&
      deployedModel(settings.deployments, deploymentOf(client, params.model))) ||
    params.model;
  const streaming = params.stream === true;
  const streamOptions = asRecord(params.stream_options);
  // Usage asked for on the caller's behalf: the usage-only chunk is hidden from a caller who never asked.
  const hideUsageChunk =
    operation === 'chat' &&
    streaming &&
    settings.includeStreamUsage !== false &&
    streamOptions?.include_usage !== true;
  return {
    request: {
      descriptor: {
        provider,
        operation,
        model,
        body: params,
      },
      serverAddress: endpoint.address,
      serverPort: endpoint.port,
      streaming,
    },
    sentBody: hideUsageChunk
      ? { ...params, stream_options: { ...streamOptions, include_usage: true } }
      : params,
    sentModel: azure ? (admitted) => deploymentFor(settings.deployments, admitted) : undefined,
    // A method, not an arrow property: the build names every arrow bound to a name, once per call.
    observe(parsed, call) {
      return observeResult(parsed, call, { operation, hideUsageChunk });
    },
  };
}
