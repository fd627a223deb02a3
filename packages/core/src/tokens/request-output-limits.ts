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

/** Output-cap fields Tollgate can write into a request. */
export type OutputCapField = 'max_completion_tokens' | 'max_tokens' | 'max_output_tokens';

/**
 * Providers reached through the `openai` SDK that read `max_completion_tokens`. Other
 * OpenAI-compatible servers (Groq, DeepSeek, Mistral, vLLM behind a known host, …) are sent
 * the older `max_tokens`, which every one of them reads; OpenAI's reasoning models refuse it.
 */
const COMPLETION_TOKENS_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'azure.ai.openai']);

/**
 * The field a request of this shape carries its output cap in, when Tollgate has to send one.
 *
 * - `chat`: `max_completion_tokens` for OpenAI and Azure OpenAI, `max_tokens` for other
 *   OpenAI-compatible providers.
 * - `responses`: `max_output_tokens`.
 * - `text_completion`, `messages` (Anthropic): `max_tokens`.
 * - `embeddings`: none (no output tokens).
 *
 * @param call - The call about to be sent.
 * @returns The field name, or `undefined` when the shape has no output.
 */
export function outputCapField(call: LlmCallDescriptor): OutputCapField | undefined {
  switch (call.operation) {
    case 'chat':
      return COMPLETION_TOKENS_PROVIDERS.has(call.provider) ? 'max_completion_tokens' : 'max_tokens';
    case 'responses':
      return 'max_output_tokens';
    case 'text_completion':
    case 'messages':
      return 'max_tokens';
    default:
      return undefined;
  }
}

/**
 * The request body with `cap` written into the output-cap field its shape uses, so the
 * provider cannot produce (or bill) more than the gate reserved. A body that already sets a
 * cap of its own is returned unchanged, as is every body when `cap` is `undefined`.
 *
 * @param call - The call as admitted (its provider and operation pick the field).
 * @param body - The body about to be sent; never modified.
 * @param cap - Output tokens per choice, usually `admission.outputCapToSend`.
 * @returns `body`, or a shallow copy of it with the cap set.
 * @example
 * withOutputCap({ provider: 'openai', operation: 'responses', model: 'gpt-5', body }, body, 2048);
 * // { ...body, max_output_tokens: 2048 }
 */
export function withOutputCap<T extends Readonly<Record<string, unknown>>>(
  call: Pick<LlmCallDescriptor, 'provider' | 'operation'>,
  body: T,
  cap: number | undefined,
): T {
  if (cap === undefined) return body;
  const descriptor: LlmCallDescriptor = { ...call, model: '', body };
  const field = outputCapField(descriptor);
  if (field === undefined || setsOwnOutputCap(descriptor)) return body;
  return { ...body, [field]: cap };
}

/** Whether the body names an output cap itself (legacy completions' implicit default of 16 does not count). */
function setsOwnOutputCap(call: LlmCallDescriptor): boolean {
  if (call.operation !== 'text_completion') return requestedMaxOutputTokens(call) !== undefined;
  const value = bodyOf(call).max_tokens;
  return value !== undefined && value !== null;
}
