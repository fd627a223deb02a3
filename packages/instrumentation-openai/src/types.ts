import type { TollgateInstrumentationConfig } from '@tollgate/core/instrumentation';

/** Configuration of `OpenAIInstrumentation`. */
export interface OpenAIInstrumentationConfig extends TollgateInstrumentationConfig {
  /**
   * Ask for usage in chat completion streams (`stream_options.include_usage`) when the caller
   * did not, so streamed cost is settled from the provider's own figures. The extra
   * usage-only chunk is hidden from a caller who never asked for it.
   * @default true
   */
  includeStreamUsage?: boolean;
  /**
   * `gen_ai.provider.name` for calls through this SDK. By default it is read from the
   * client's base URL (`openai`, `azure.ai.openai`, `groq`, `deepseek`, …), falling back to `openai`.
   */
  providerName?: string;
}
