import type { MockEndpoint, MockProviderName } from './served-request';

/** Which requests a fault applies to, how many times, and how long to stall first. */
export interface FaultTarget {
  /** Only requests to this provider. @default any */
  provider?: MockProviderName;
  /** Only requests to this endpoint. @default any */
  endpoint?: MockEndpoint;
  /** Only requests for exactly this model (the body's `model`, or the model in the URL). @default any */
  model?: string;
  /** How many matching requests the fault applies to; `Infinity` keeps it forever. @default 1 */
  times?: number;
  /** Wait this long before answering a faulted request, instead of `latencyMillis`. */
  delayMillis?: number;
}

/** HTTP statuses an injected error can carry. */
export type FaultStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504 | 529;

/**
 * Answer with an HTTP error in the provider's own error shape, so the SDK raises its typed
 * error (`RateLimitError`, `InternalServerError`, Anthropic's `OverloadedError`, Bedrock's
 * `ThrottlingException`, ...; @google/genai raises `ApiError` with the status). A Gemini 429
 * also carries `google.rpc.RetryInfo` with the retry delay.
 */
export interface StatusFault extends FaultTarget {
  status: FaultStatus;
  /** Sent as `retry-after` (seconds). */
  retryAfterSeconds?: number;
  /** Sent as `retry-after-ms` (and rounded up into `retry-after` unless that is set). */
  retryAfterMs?: number;
  /** Overrides the error message. */
  message?: string;
}

/**
 * Cut the connection after this many events of a streaming response (HTTP/2: reset that stream
 * only). The response headers are always sent first, so 0 gives a stream that breaks off at once.
 */
export interface DisconnectFault extends FaultTarget {
  kind: 'disconnect-mid-stream';
  /** Events written before the cut (OpenAI `data:` chunks, Anthropic and Gemini events, Bedrock event-stream messages). */
  afterChunks: number;
}

/** Answer normally but leave the token counts out of the usage the response reports. */
export interface MalformedUsageFault extends FaultTarget {
  kind: 'malformed-usage';
}

/** A fault queued with `provider.inject()`; faults match in the order they were injected. */
export type Fault = StatusFault | DisconnectFault | MalformedUsageFault;
