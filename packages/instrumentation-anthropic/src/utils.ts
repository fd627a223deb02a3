import type { TokenUsage } from '@tollgate/core';
import { asRecord, tokenCount as count, stringOf } from '@tollgate/core/instrumentation';

export { asRecord, stringOf };

type Json = Record<string, unknown>;

/**
 * Normalises an Anthropic `usage` object. Anthropic's `input_tokens` leaves out the tokens read
 * from and written to the prompt cache; `gen_ai.usage.input_tokens` counts every input token,
 * so the three are added up. Returns undefined when the object carries no token counts at all
 * (as when the provider sent `usage: {}`).
 */
export function messageUsage(usage: unknown): TokenUsage | undefined {
  const raw = asRecord(usage);
  if (!raw) return undefined;
  const uncached = count(raw.input_tokens);
  const cacheRead = count(raw.cache_read_input_tokens);
  const cacheWrite = count(raw.cache_creation_input_tokens);
  const normalized: TokenUsage = {
    inputTokens: uncached === undefined ? undefined : uncached + (cacheRead ?? 0) + (cacheWrite ?? 0),
    outputTokens: count(raw.output_tokens),
    cacheReadInputTokens: cacheRead,
    cacheWriteInputTokens: cacheWrite,
    reasoningOutputTokens: count(asRecord(raw.output_tokens_details)?.thinking_tokens),
  };
  return normalized.inputTokens === undefined && normalized.outputTokens === undefined
    ? undefined
    : normalized;
}

/**
 * The usage fields a `message_delta` event may carry. They are running totals for the whole
 * message, not increments: each one present replaces the value seen before it.
 */
const CUMULATIVE_USAGE_FIELDS = [
  'input_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
  'output_tokens',
  'output_tokens_details',
] as const;

/** `latest` folded over `current`: every field `latest` reports replaces the earlier value. */
export function foldCumulativeUsage(current: Json, latest: unknown): Json {
  const reported = asRecord(latest);
  if (!reported) return current;
  const next = { ...current };
  for (const field of CUMULATIVE_USAGE_FIELDS) {
    if (reported[field] !== undefined && reported[field] !== null) next[field] = reported[field];
  }
  return next;
}

/**
 * The generated text of a (non-streamed) message's content blocks, for local counting when the
 * provider's usage is missing: text, tool names and inputs, and thinking.
 */
export function messageText(message: Json): string {
  const content = Array.isArray(message.content) ? message.content : [];
  return content
    .map((entry) => {
      const block = asRecord(entry);
      if (!block) return '';
      switch (block.type) {
        case 'text':
          return typeof block.text === 'string' ? block.text : '';
        case 'thinking':
          return typeof block.thinking === 'string' ? block.thinking : '';
        case 'tool_use':
        case 'server_tool_use':
          return `${typeof block.name === 'string' ? block.name : ''}${JSON.stringify(block.input ?? '')}`;
        default:
          return '';
      }
    })
    .join('');
}

/** The text a streamed `content_block_delta` adds to the message, if any. */
export function deltaText(delta: Json | undefined): string | undefined {
  switch (delta?.type) {
    case 'text_delta':
      return typeof delta.text === 'string' ? delta.text : undefined;
    case 'input_json_delta':
      return typeof delta.partial_json === 'string' ? delta.partial_json : undefined;
    case 'thinking_delta':
      return typeof delta.thinking === 'string' ? delta.thinking : undefined;
    default:
      return undefined;
  }
}
