/**
 * Which provider's wire protocol a request spoke, named as the GenAI semantic conventions name
 * providers: the Gemini API, Vertex AI and Amazon Bedrock Runtime besides OpenAI and Anthropic.
 */
export type MockProviderName = 'openai' | 'anthropic' | 'gcp.gemini' | 'gcp.vertex_ai' | 'aws.bedrock';

/**
 * The API operation a request was routed to. Streaming variants share their operation's name
 * (`ServedRequest.stream` tells them apart): `generate_content` covers `:generateContent` and
 * `:streamGenerateContent`, `converse` covers `/converse` and `/converse-stream`, `invoke_model`
 * covers `/invoke` and `/invoke-with-response-stream`. `embed_content` is Gemini's
 * `:batchEmbedContents` / `:embedContent` and Vertex's `:predict` / `:embedContent`.
 */
export type MockEndpoint =
  | 'chat.completions'
  | 'responses'
  | 'embeddings'
  | 'completions'
  | 'messages'
  | 'messages.count_tokens'
  | 'generate_content'
  | 'embed_content'
  | 'count_tokens'
  | 'converse'
  | 'invoke_model';

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
  /**
   * Also sent back as `x-request-id` (OpenAI), `request-id` (Anthropic), `x-amzn-requestid`
   * (Bedrock) or the Gemini `responseId`.
   */
  readonly id: string;
  readonly provider: MockProviderName;
  readonly endpoint: MockEndpoint;
  /**
   * `model` from the request body, or `''` when the body had none; for Gemini, Vertex AI and
   * Bedrock the model in the URL, decoded (`gemini-2.5-flash`, `us.anthropic.claude-…`, an ARN);
   * for Azure OpenAI (`/openai/deployments/{deployment}/…`) the deployment in the URL.
   */
  readonly model: string;
  readonly stream: boolean;
  /** The parsed JSON body (`undefined` when it was not valid JSON). */
  readonly body: unknown;
  /** `'1.1'`, or `'2.0'` for plain-text HTTP/2 (the AWS SDK's default handler). */
  readonly httpVersion: string;
  /** Request headers, names lower-cased, repeated headers joined with `, `; HTTP/2 pseudo-headers left out. */
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
