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
  /** Where the calls' spans go. @default the global tracer provider */
  tracerProvider?: TracerProvider;
  /** Where the calls' metrics go. @default the global meter provider */
  meterProvider?: MeterProvider;
}
