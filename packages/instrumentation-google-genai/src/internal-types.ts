import type { MethodHost } from '@tollgate/core/instrumentation';

/*
 * The few parts of @google/genai this package touches, typed structurally so the SDK's own types
 * never leak into this package's declarations.
 */

/** The SDK's `ApiClient`, as `Models` holds it. */
export interface ApiClientLike {
  isVertexAI?(): boolean;
  getBaseUrl?(): string | undefined;
}

/** A `Models` instance (`ai.models`): the per-request methods live on its prototype. */
export interface ModelsLike {
  apiClient?: ApiClientLike;
}

/** The parameters of `generateContent*` and `embedContent`, as the per-request methods get them. */
export type ModelParams = Record<string, unknown> & { model: string };

/** `Models.generateContentInternal` / `embedContentInternal`: one request, one parsed response. */
export type RequestMethod = (this: ModelsLike, params: unknown) => Promise<unknown>;

/** The `Models` class: its prototype holds the methods to wrap. */
export interface ModelsClass {
  prototype: MethodHost;
}
