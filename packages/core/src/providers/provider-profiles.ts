/**
 * What Tollgate knows about a provider, as data. Request formats live in `request-shapes/`;
 * this is what varies by who serves the request. A provider without a profile is an
 * OpenAI-compatible endpoint and gets the defaults noted on each field.
 */
export interface ProviderProfile {
  /**
   * Prefixes routers put before this provider's model ids (`openai/gpt-4o`). A price lookup
   * strips them, and the priced model must then belong to this provider. @default none
   */
  readonly modelPrefixes: readonly string[];
  /**
   * Every model this provider serves is a Claude model, whose tokenizer is not public: text
   * is counted with the Claude approximation whatever the model id. @default false
   */
  readonly servesClaudeOnly: boolean;
  /**
   * The chat-completions endpoint reads `max_completion_tokens` (OpenAI's reasoning models refuse
   * `max_tokens`). Other OpenAI-compatible servers (Groq, DeepSeek, Mistral, vLLM, …) are sent
   * the older `max_tokens`, which every one of them reads. @default false
   */
  readonly readsMaxCompletionTokens: boolean;
}

const PROFILES: ReadonlyMap<string, ProviderProfile> = new Map<string, ProviderProfile>([
  ['openai', { modelPrefixes: ['openai/'], servesClaudeOnly: false, readsMaxCompletionTokens: true }],
  ['azure.ai.openai', { modelPrefixes: [], servesClaudeOnly: false, readsMaxCompletionTokens: true }],
  ['anthropic', { modelPrefixes: ['anthropic/'], servesClaudeOnly: true, readsMaxCompletionTokens: false }],
]);

/**
 * The profile of a provider Tollgate knows natively.
 *
 * @param provider - `LlmCallDescriptor.provider`.
 * @returns The profile, or `undefined` for an OpenAI-compatible endpoint it does not know.
 */
export function providerProfile(provider: string | undefined): ProviderProfile | undefined {
  return provider === undefined ? undefined : PROFILES.get(provider);
}

/**
 * Every router prefix with the provider it names, e.g. `['openai/', 'openai']`.
 *
 * @returns Pairs in registration order.
 */
export function modelPrefixes(): ReadonlyArray<readonly [prefix: string, provider: string]> {
  const pairs: (readonly [string, string])[] = [];
  for (const [provider, profile] of PROFILES) {
    for (const prefix of profile.modelPrefixes) pairs.push([prefix, provider]);
  }
  return pairs;
}
