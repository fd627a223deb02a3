import type { MethodHost } from '@tollgate/core/instrumentation';

/*
 * The few parts of the openai SDK this package touches, typed structurally so the SDK's
 * own types never leak into this package's declarations.
 */

/** The client, as its `post()` sees itself. */
export interface ClientLike {
  baseURL?: string;
  /** Set by `AzureOpenAI` only. */
  apiVersion?: string;
  /** `AzureOpenAI`'s `deployment` option (present, maybe undefined, on every `AzureOpenAI`). */
  deploymentName?: string | undefined;
}

/** The client class: resource classes hang off it as static members. */
export interface OpenAIClass {
  prototype: MethodHost;
  Chat?: { Completions?: { prototype: MethodHost } };
  Responses?: { prototype: MethodHost };
  Embeddings?: { prototype: MethodHost };
  Completions?: { prototype: MethodHost };
}
