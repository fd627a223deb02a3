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
  /**
   * Which substitutes a routing rule (`fallback`, `cheapest`) may give this call:
   * `'same-provider'`, models of `provider` only; `'any-provider'`, also another provider's
   * model (`anthropic:claude-haiku-4-5`), for callers that can send one call to any provider
   * (the AI SDK); a function, only the other providers' models it returns true for (the ones
   * the caller has a model object for). A rule whose target the call cannot reach does not apply.
   * @default 'same-provider'
   */
  substitutes?: SubstituteReach;
}

/** Whether a call can be sent to another provider's model than the one it names. */
export type SubstituteReach =
  | 'same-provider'
  | 'any-provider'
  | ((provider: string, model: string) => boolean);
