import type { APIPromiseParts, MethodHost } from '@tollgate/core/instrumentation';

/*
 * The few parts of the @anthropic-ai/sdk SDK this package touches, typed structurally so the
 * SDK's own types never leak into this package's declarations.
 */

/** The SDK's `APIPromise`: a Promise subclass built from a response promise and a parser (see core's `gatedAPIPromise`). */
export interface APIPromiseLike extends Promise<unknown>, APIPromiseParts {}

/** The client as a resource sees it. `_tracer` is set when the client emits its own spans (SDK 1.x, 0.1xx). */
export interface ClientLike {
  baseURL?: string;
  _tracer?: unknown;
}

/** A resource (e.g. `client.messages`) holding a reference to its client. */
export interface ResourceLike {
  _client: ClientLike;
}

/** A resource class: its prototype holds the methods to wrap. */
export interface ResourceClass {
  prototype: MethodHost;
}

/** The client class: resource classes hang off it as static members. */
export interface AnthropicClass {
  prototype: MethodHost;
  Messages?: ResourceClass;
  Beta?: { Messages?: ResourceClass };
}
