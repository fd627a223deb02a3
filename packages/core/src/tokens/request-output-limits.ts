import type { LlmCallDescriptor } from '../call/llm-call';
import { countBatchedInputs } from './token-or-text-input';
import { isRecord } from './untrusted-json';

/**
 * The output cap of a legacy completions request that sets none: the API defaults
 * `max_tokens` to 16.
 */
export const LEGACY_COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}

/** Reads an optional integer field; `undefined` and `null` mean "not set". */
function readInteger(
  body: Readonly<Record<string, unknown>>,
  field: string,
  minimum: number,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    const expected = minimum === 0 ? 'a non-negative integer' : `an integer >= ${minimum}`;
    throw new TypeError(`Invalid ${field}: expected ${expected}, got ${describe(value)}`);
  }
  return value;
}

function bodyOf(call: LlmCallDescriptor): Readonly<Record<string, unknown>> {
  return isRecord(call.body) ? call.body : {};
}

/**
 * The most output tokens the request allows per choice, from the field its API uses.
 *
 * - `chat`: `max_completion_tokens` or the older `max_tokens` (the larger, if both are set).
 * - `responses`: `max_output_tokens`.
 * - `text_completion`: `max_tokens`, or 16 (the API default) when unset.
 * - `messages` (Anthropic): `max_tokens` (which includes any thinking budget).
 * - `embeddings`: 0, as embeddings produce no output tokens.
 *
 * @param call - The call about to be sent.
 * @returns The cap, or `undefined` when the request sets none and the model's own limit applies.
 * @throws {TypeError} Naming the field, when it is set to anything but a non-negative integer.
 * @example
 * requestedMaxOutputTokens({ provider: 'anthropic', operation: 'messages', model: 'claude-sonnet-4-5', body: { max_tokens: 1024, messages: [] } }); // 1024
 */
export function requestedMaxOutputTokens(call: LlmCallDescriptor): number | undefined {
  const body = bodyOf(call);
  switch (call.operation) {
    case 'chat': {
      const completion = readInteger(body, 'max_completion_tokens', 0);
      const legacy = readInteger(body, 'max_tokens', 0);
      if (completion === undefined) return legacy;
      return legacy === undefined ? completion : Math.max(completion, legacy);
    }
    case 'responses':
      return readInteger(body, 'max_output_tokens', 0);
    case 'text_completion':
      return readInteger(body, 'max_tokens', 0) ?? LEGACY_COMPLETIONS_DEFAULT_MAX_TOKENS;
    case 'messages':
      return readInteger(body, 'max_tokens', 0);
    case 'embeddings':
      return 0;
    default:
      return undefined;
  }
}

/**
 * How many completions the provider generates (and bills output for) per request.
 *
 * - `chat`: `n` (default 1).
 * - `text_completion`: the larger of `n` and `best_of` (best_of completions are generated
 *   and billed server-side), times the number of prompts when `prompt` is a batch.
 * - everything else: 1.
 *
 * @param call - The call about to be sent.
 * @returns A positive integer.
 * @throws {TypeError} Naming the field, when `n` or `best_of` is set to anything but a positive integer.
 * @example
 * requestedChoiceCount({ provider: 'openai', operation: 'chat', model: 'gpt-4o', body: { n: 3, messages: [] } }); // 3
 */
export function requestedChoiceCount(call: LlmCallDescriptor): number {
  const body = bodyOf(call);
  switch (call.operation) {
    case 'chat':
      return readInteger(body, 'n', 1) ?? 1;
    case 'text_completion': {
      const n = readInteger(body, 'n', 1) ?? 1;
      const bestOf = readInteger(body, 'best_of', 1) ?? 1;
      return Math.max(n, bestOf) * countBatchedInputs(body.prompt);
    }
    default:
      return 1;
  }
}
