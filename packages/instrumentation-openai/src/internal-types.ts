/*
 * The few parts of the openai SDK this package touches, typed structurally so the SDK's
 * own types never leak into this package's declarations.
 */

/** The SDK's `APIPromise` constructor: a Promise subclass built around a response promise and a parser. */
export type APIPromiseConstructor = new (
  client: unknown,
  responsePromise: Promise<ResponseProps>,
  parseResponse: (client: unknown, props: ResponseProps) => Promise<unknown>,
) => APIPromiseLike;

export interface APIPromiseLike extends Promise<unknown> {
  responsePromise: Promise<ResponseProps>;
  parseResponse: (client: unknown, props: ResponseProps) => Promise<unknown>;
}

/** What the SDK resolves `responsePromise` with. */
export interface ResponseProps {
  response: Response;
  options: Record<string, unknown>;
  controller: AbortController;
}

/** The SDK's `Stream`: its private `iterator` feeds `for await`, `tee()` and `toReadableStream()` alike. */
export interface StreamLike {
  iterator: () => AsyncIterator<unknown>;
}

/** A resource (e.g. `client.chat.completions`) holding a reference to its client. */
export interface ResourceLike {
  _client: { baseURL?: string };
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
