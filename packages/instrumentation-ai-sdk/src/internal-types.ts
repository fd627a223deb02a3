/*
 * The few parts of the Vercel AI SDK this package touches, typed structurally so the SDK's own
 * types (which differ between `@ai-sdk/provider` majors) never leak into its declarations.
 */

/** A language model (`LanguageModelV2`, `V3` or `V4`): what identifies it, and its two calls. */
export interface LanguageModelLike {
  readonly specificationVersion?: string;
  readonly provider: string;
  readonly modelId: string;
  /** The provider packages keep their base URL here (`baseURL`, or `url({ path })`). */
  readonly config?: unknown;
  doGenerate(options: CallOptions): PromiseLike<unknown>;
  doStream(options: CallOptions): PromiseLike<unknown>;
}

/** The options `doGenerate` / `doStream` receive: `prompt`, `maxOutputTokens`, `tools`, `abortSignal`, … */
export type CallOptions = Record<string, unknown>;

/** The options `doEmbed` receives: `values`, `abortSignal`, … */
export type EmbedOptions = Record<string, unknown> & { values?: unknown };

/** A model method the instrumentation wraps: called with the model as `this`. */
export type ModelMethod<Options> = (this: object, options: Options) => PromiseLike<unknown>;

/** A provider package's module exports or ES module namespace. */
export type ProviderModule = Record<string, unknown>;
