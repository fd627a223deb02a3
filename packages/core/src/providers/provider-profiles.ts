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
   * Every model this provider serves belongs to this model family (`MODEL_FAMILIES`), whatever
   * its id: an Anthropic model is counted as Claude even under an alias. @default none
   */
  readonly servesOnlyFamily: string | undefined;
  /**
   * The provider's tag inside cloud model ids (Bedrock's `us.anthropic.claude-…`): it and what
   * precedes it are removed to read the bare model name. @default none
   */
  readonly modelIdVendorTag: string | undefined;
  /**
   * The chat-completions endpoint reads `max_completion_tokens` (OpenAI's reasoning models refuse
   * `max_tokens`). Other OpenAI-compatible servers (Groq, DeepSeek, Mistral, vLLM, …) are sent
   * the older `max_tokens`, which every one of them reads. @default false
   */
  readonly readsMaxCompletionTokens: boolean;
}

const PROFILES: ReadonlyMap<string, ProviderProfile> = new Map<string, ProviderProfile>([
  [
    'openai',
    {
      modelPrefixes: ['openai/'],
      servesOnlyFamily: undefined,
      modelIdVendorTag: undefined,
      readsMaxCompletionTokens: true,
    },
  ],
  [
    'azure.ai.openai',
    {
      modelPrefixes: [],
      servesOnlyFamily: undefined,
      modelIdVendorTag: undefined,
      readsMaxCompletionTokens: true,
    },
  ],
  [
    'anthropic',
    {
      modelPrefixes: ['anthropic/'],
      servesOnlyFamily: 'claude',
      modelIdVendorTag: 'anthropic.',
      readsMaxCompletionTokens: false,
    },
  ],
  // Gemini API and Vertex AI (`@google/genai`): the instrumentation passes bare model ids.
  [
    'gcp.gemini',
    {
      modelPrefixes: ['google/'],
      servesOnlyFamily: undefined,
      modelIdVendorTag: undefined,
      readsMaxCompletionTokens: false,
    },
  ],
  [
    'gcp.vertex_ai',
    {
      modelPrefixes: [],
      servesOnlyFamily: undefined,
      modelIdVendorTag: undefined,
      readsMaxCompletionTokens: false,
    },
  ],
  [
    'aws.bedrock',
    {
      // Cross-region inference profiles put a geography before the base model id
      // (`us.anthropic.claude-…`, `global.amazon.nova-…`): priced as the base model.
      modelPrefixes: ['us.', 'us-gov.', 'eu.', 'apac.', 'jp.', 'au.', 'ca.', 'global.'],
      servesOnlyFamily: undefined,
      modelIdVendorTag: undefined,
      readsMaxCompletionTokens: false,
    },
  ],
]);

/** The names of the providers Tollgate knows natively (`openai`, `anthropic`, `aws.bedrock`, …). */
export function providerNames(): string[] {
  return [...PROFILES.keys()];
}

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

/**
 * Every provider's tag inside cloud model ids, e.g. `anthropic.`.
 *
 * @returns Tags in registration order.
 */
export function modelIdVendorTags(): readonly string[] {
  const tags: string[] = [];
  for (const profile of PROFILES.values()) if (profile.modelIdVendorTag) tags.push(profile.modelIdVendorTag);
  return tags;
}
