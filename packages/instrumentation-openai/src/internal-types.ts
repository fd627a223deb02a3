import type { APIPromiseParts, APIPromiseConstructor as CoreAPIPromiseConstructor } from '@tollgate/core';

/*
 * The few parts of the openai SDK this package touches, typed structurally so the SDK's
 * own types never leak into this package's declarations.
 */

/** The SDK's `APIPromise`: a Promise subclass built from a response promise and a parser (see core's `gatedAPIPromise`). */
export interface APIPromiseLike extends Promise<unknown>, APIPromiseParts {}

export type APIPromiseConstructor = CoreAPIPromiseConstructor<APIPromiseLike>;

/** The client, as its `post()` sees itself. */
export interface ClientLike {
  baseURL?: string;
}

/** What a module load of `openai` exposes. */
export interface OpenAIModuleExports {
  OpenAI?: OpenAIClass;
  default?: OpenAIClass | { OpenAI?: OpenAIClass };
  APIPromise?: APIPromiseConstructor;
}

export type MethodHost = Record<string, unknown>;

export interface OpenAIClass {
  prototype: MethodHost;
  Chat?: { Completions?: { prototype: MethodHost } };
  Responses?: { prototype: MethodHost };
  Embeddings?: { prototype: MethodHost };
  Completions?: { prototype: MethodHost };
}
