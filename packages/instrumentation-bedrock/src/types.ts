import type { TollgateInstrumentationConfig } from '@tollgate/core/instrumentation';

/** Configuration of `BedrockInstrumentation`. */
export interface BedrockInstrumentationConfig extends TollgateInstrumentationConfig {
  /**
   * `gen_ai.provider.name` for calls through this SDK, and the provider the guard's budgets and
   * rate limits match on.
   * @default 'aws.bedrock'
   */
  providerName?: string;
}
