import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  type APIPromiseConstructor,
  type CallGate,
  errorType,
  gatedPost,
  type PostMethod,
  semconv,
} from '@tollgate/core/instrumentation';
import { describeCall } from './gated-create';
import type { ClientLike } from './internal-types';
import { observeResult } from './result-observers';
import type { AnthropicInstrumentationConfig } from './types';
import { asRecord } from './utils';

/** `messages.create()` and `beta.messages.create()` post here (SDK 0.x marks beta in the path, 1.x in options). */
const MESSAGES_PATHS = new Set(['/v1/messages', '/v1/messages?beta=true']);

export interface GatedMessagesPostOptions {
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
export function gatedMessagesPost(
  original: PostMethod<ClientLike>,
  gated: GatedMessagesPostOptions,
): PostMethod<ClientLike> {
  return gatedPost<ClientLike>(original, {
    gate: gated.gate,
    APIPromise: gated.APIPromise,
    gates: (path) => MESSAGES_PATHS.has(path),
    describe: (client, _path, params, options) => {
      gated.onUngatedCreate?.();
      const sdkSpan = asRecord(options.__span)?.span as Span | undefined;
      return {
        request: describeCall(client, params, gated.config()),
        parent: sdkSpan ? trace.setSpan(context.active(), sdkSpan) : undefined,
        onRefused: sdkSpan ? (error) => endRefusedSdkSpan(sdkSpan, error) : undefined,
        observe: observeResult,
      };
    },
  });
}

function endRefusedSdkSpan(span: Span, error: unknown): void {
  span.setAttribute(semconv.ATTR_ERROR_TYPE, errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.end();
}
