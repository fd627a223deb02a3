/** Which provider's wire protocol a request spoke. */
export type MockProviderName = 'openai' | 'anthropic';

/** The API operation a request was routed to. */
export type MockEndpoint =
  | 'chat.completions'
  | 'responses'
  | 'embeddings'
  | 'completions'
  | 'messages'
  | 'messages.count_tokens';

/**
 * Tokens the mock generated and would have charged for one request (or summed over many).
 *
 * `inputTokens` counts every prompt token, cached ones included (OpenAI's `prompt_tokens`;
 * Anthropic's `input_tokens + cache_creation_input_tokens + cache_read_input_tokens`).
 * `outputTokens` includes `reasoningOutputTokens`.
 */
export interface BilledUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
  reasoningOutputTokens: number;
}

/** `BilledUsage` summed over every request since start or the last `reset()`. */
export interface BilledTotals extends BilledUsage {
  /** Requests summed, including errors and aborted ones. */
  requests: number;
}

/**
 * One request the mock received, in arrival order. The object is updated in place while the
 * request is in flight (`completed`, `clientAborted`, `billed`, `status`); await
 * `provider.whenIdle()` before asserting on a request whose stream was cut short.
 */
export interface ServedRequest {
  /** Also sent back as `x-request-id` (OpenAI) or `request-id` (Anthropic). */
  readonly id: string;
  readonly provider: MockProviderName;
  readonly endpoint: MockEndpoint;
  /** `model` from the request body, or `''` when the body had none. */
  readonly model: string;
  readonly stream: boolean;
  /** The parsed JSON body (`undefined` when it was not valid JSON). */
  readonly body: unknown;
  /** Request headers, names lower-cased, repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly receivedAtMs: number;
  /** The whole response was written. */
  readonly completed: boolean;
  /** The client closed the connection before the response was complete. */
  readonly clientAborted: boolean;
  /** Tokens generated and charged; partial when the stream was cut short. */
  readonly billed: Readonly<BilledUsage>;
  /** HTTP status sent; 499 when the client hung up before any response was sent. */
  readonly status: number;
}
