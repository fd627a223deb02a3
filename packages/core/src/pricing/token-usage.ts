/**
 * Token usage of one call, normalised across providers. Every field is
 * `number | undefined`: unknown is never confused with zero.
 */
export interface TokenUsage {
  /** All input tokens, cached reads and cache writes included (as `gen_ai.usage.input_tokens`). */
  inputTokens: number | undefined;
  /** All output tokens, reasoning included (as `gen_ai.usage.output_tokens`). */
  outputTokens: number | undefined;
  /** Input tokens served from the provider's prompt cache; a subset of `inputTokens`. */
  cacheReadInputTokens?: number | undefined;
  /** Input tokens written to the provider's prompt cache; a subset of `inputTokens`. */
  cacheWriteInputTokens?: number | undefined;
  /** Output tokens spent on hidden reasoning; a subset of `outputTokens`. */
  reasoningOutputTokens?: number | undefined;
}
