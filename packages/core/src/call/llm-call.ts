/** Provider identifiers Tollgate knows natively; any other string names an OpenAI-compatible endpoint. */
export type ProviderName = 'openai' | 'anthropic' | (string & {});

/**
 * The API operation a call performs. Matches `gen_ai.operation.name` where the
 * semantic conventions define one (`chat`, `embeddings`, `text_completion`);
 * `responses` and `messages` name the request shape so the estimator can read it.
 */
export type OperationName = 'chat' | 'responses' | 'embeddings' | 'text_completion' | 'messages';

/** What the gate knows about a call before it is sent: who, which model, and the request body. */
export interface LlmCallDescriptor {
  provider: ProviderName;
  operation: OperationName;
  /** The model named in the request, as sent (a dated snapshot or alias is fine). */
  model: string;
  /** The request body as the SDK will send it; read, never modified by estimation. */
  body: Readonly<Record<string, unknown>>;
}
