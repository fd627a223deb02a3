import type { OperationName } from '../request-shapes/request-shape-registry';

export type { OperationName };

/** Provider identifiers Tollgate knows natively; any other string names an OpenAI-compatible endpoint. */
export type ProviderName = 'openai' | 'anthropic' | (string & {});

/** What the gate knows about a call before it is sent: who, which model, and the request body. */
export interface LlmCallDescriptor {
  provider: ProviderName;
  operation: OperationName;
  /** The model named in the request, as sent (a dated snapshot or alias is fine). */
  model: string;
  /** The request body as the SDK will send it; read, never modified by estimation. */
  body: Readonly<Record<string, unknown>>;
}
