import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { withOutputCap } from '@tollgate/core';
import {
  type CallGate,
  claimAdmittedRequest,
  deferredAPIPromise,
  errorType,
  gatedAPIPromise,
  isThenable,
  sendAdmitted,
} from '@tollgate/core/instrumentation';
import { describeCall, gatedBody } from './gated-create';
import type { APIPromiseConstructor, APIPromiseLike, ClientLike } from './internal-types';
import { observeResult } from './result-observers';
import type { AnthropicInstrumentationConfig } from './types';
import { asRecord } from './utils';

type PostMethod = (this: ClientLike, path: string, opts?: unknown) => APIPromiseLike;

/** `messages.create()` and `beta.messages.create()` post here (SDK 0.x marks beta in the path, 1.x in options). */
const MESSAGES_PATHS = new Set(['/v1/messages', '/v1/messages?beta=true']);

export interface GatedPostOptions {
  gate: () => CallGate | undefined;
  config: () => AnthropicInstrumentationConfig;
  APIPromise: APIPromiseConstructor;
  /** Told about each call that reached `post()` without passing Tollgate's `create()` wrapper. */
  onUngatedCreate?: () => void;
}

/**
 * Wraps the client's `post()` as the floor under the `create()` gate: a Messages request that
 * reaches `post()` without having been admitted at `create()` is gated here. That happens when
 * another instrumentation re-wrapped `create()` with `InstrumentationBase._wrap`, which unwraps
 * whatever wrapper sat there (Tollgate's included), or when the app calls `client.post()` itself.
 * The request `create()` already admitted passes straight through: it claims its call.
 *
 * Gated here, the SDK's own span (when the client emits one) was started in `create()`, before
 * the gate: Tollgate's span becomes its child, and a refused call ends it with the error, since
 * the SDK, never sending, would not.
 */
export function gatedPost(original: PostMethod, gated: GatedPostOptions): PostMethod {
  return function post(this: ClientLike, path: string, opts?: unknown): APIPromiseLike {
    if (!MESSAGES_PATHS.has(path)) return original.call(this, path, opts);
    const callGate = gated.gate();
    // The request create() already admitted passes untouched.
    if (!callGate || claimAdmittedRequest()) return original.call(this, path, opts);
    // The SDK's type allows a promise of the options; its own methods pass a plain object.
    if (isThenable(opts)) {
      return deferredAPIPromise(gated.APIPromise, this, opts, (resolved) => post.call(this, path, resolved));
    }
    const options = asRecord(opts);
    const params = gatedBody(options?.body);
    // Without a body the gate can describe, step aside and let the SDK (or the API) speak.
    if (!options || !params) return original.call(this, path, opts);
    gated.onUngatedCreate?.();

    const { descriptor, endpoint, streaming } = describeCall(this, params, gated.config());
    const sdkSpan = asRecord(options.__span)?.span as Span | undefined;
    const parent = sdkSpan ? trace.setSpan(context.active(), sdkSpan) : context.active();
    return gatedAPIPromise({
      APIPromise: gated.APIPromise,
      client: this,
      signal: (options as { signal?: AbortSignal }).signal,
      admit: (callOptions) =>
        callGate
          .begin(
            { descriptor, serverAddress: endpoint.address, serverPort: endpoint.port, streaming },
            parent,
            callOptions,
          )
          .catch((error: unknown) => {
            if (sdkSpan) endRefusedSdkSpan(sdkSpan, error);
            throw error;
          }),
      send: (call) => {
        // A fallback rule may have chosen a cheaper model: send that one (with the reserved output cap, if the caller set none).
        const body = withOutputCap(
          descriptor,
          call.admission.model === params.model ? params : { ...params, model: call.admission.model },
          call.admission.outputCapToSend,
        );
        return sendAdmitted(call, () => original.call(this, path, { ...options, body }));
      },
      observe: (parsed, call) => observeResult(parsed, call),
    });
  };
}

function endRefusedSdkSpan(span: Span, error: unknown): void {
  span.setAttribute('error.type', errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.end();
}
