import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { Guard } from '@tollgate/core';
import type { TollgateInstrumentationConfig } from '@tollgate/core/instrumentation';

/** Configuration of `AiSdkInstrumentation`. */
export interface AiSdkInstrumentationConfig extends TollgateInstrumentationConfig {
  /**
   * `gen_ai.provider.name` for every gated call, and the provider budgets and rate limits match
   * on. Unset, each call is named by its model's provider (`openai.responses` → `openai`,
   * `anthropic.messages` → `anthropic`, `google.generative-ai` → `gcp.gemini`).
   * @default derived from the model's `provider`
   */
  providerName?: string;
  /**
   * Model objects by `provider:model` id (`{ 'anthropic:claude-haiku-4-5': anthropic('claude-haiku-4-5') }`),
   * for the substitutes the guard's routing rules (`fallback`, `cheapest`) name: a call a rule
   * sends to one of these ids runs on that model object, whatever provider the call was made
   * for. Without it, rules only pick models of the calling provider.
   * @default none
   */
  models?: Readonly<Record<string, RoutableLanguageModel>>;
}

/**
 * An AI SDK language model (`LanguageModelV3` or `V4`, e.g. `anthropic('claude-haiku-4-5')`),
 * typed structurally so both majors' models fit.
 */
export interface RoutableLanguageModel {
  readonly provider: string;
  readonly modelId: string;
  // biome-ignore lint/suspicious/noExplicitAny: accepts each AI SDK major's typed call options.
  doGenerate(options: any): PromiseLike<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: accepts each AI SDK major's typed call options.
  doStream(options: any): PromiseLike<unknown>;
}

/** Options of `tollgateMiddleware()`. */
export interface TollgateMiddlewareOptions {
  /** The gate every call passes; from `createGuard()`. */
  guard: Guard;
  /**
   * `gen_ai.provider.name` for the wrapped model's calls, and the provider budgets, rate limits
   * and prices match on.
   * @default derived from the model's `provider` (`groq.chat` → `groq`)
   */
  providerName?: string;
  /** Model objects by `provider:model` id, for routing rules' substitutes (see `AiSdkInstrumentationConfig.models`). @default none */
  models?: Readonly<Record<string, RoutableLanguageModel>>;
  /** Where the calls' spans go. @default the global tracer provider */
  tracerProvider?: TracerProvider;
  /** Where the calls' metrics go. @default the global meter provider */
  meterProvider?: MeterProvider;
}
