import type { LlmCallDescriptor } from '../call/llm-call';
import type { OutputCapField, RequestBody } from '../request-shapes/request-shape';
import { requestShapeOf } from '../request-shapes/request-shape-registry';
import { isRecord } from '../tokens/untrusted-json';

/** Read in place of a body that is not an object: it sets nothing. */
const EMPTY_BODY: RequestBody = Object.freeze({});

/** The call's body as the shapes read it: a body that is not an object sets nothing. */
export function bodyOf(call: LlmCallDescriptor): RequestBody {
  return isRecord(call.body) ? call.body : EMPTY_BODY;
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
 * @throws {InvalidRequestError} Naming the field, when it is set to anything but a non-negative integer.
 * @example
 * requestedMaxOutputTokens({ provider: 'anthropic', operation: 'messages', model: 'claude-sonnet-4-5', body: { max_tokens: 1024, messages: [] } }); // 1024
 */
export function requestedMaxOutputTokens(call: LlmCallDescriptor): number | undefined {
  const shape = requestShapeOf(call.operation);
  if (shape === undefined) return undefined;
  return shape.requestedOutputCap(bodyOf(call)) ?? shape.defaultOutputCap;
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
 * @throws {InvalidRequestError} Naming the field, when `n` or `best_of` is set to anything but a positive integer.
 * @example
 * requestedChoiceCount({ provider: 'openai', operation: 'chat', model: 'gpt-4o', body: { n: 3, messages: [] } }); // 3
 */
export function requestedChoiceCount(call: LlmCallDescriptor): number {
  const shape = requestShapeOf(call.operation);
  return shape === undefined ? 1 : shape.choiceCount(bodyOf(call));
}

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
export function outputCapField(
  call: Pick<LlmCallDescriptor, 'provider' | 'operation'>,
): OutputCapField | undefined {
  return requestShapeOf(call.operation)?.outputCapField(call.provider);
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
  if (cap === undefined || !isRecord(body)) return body;
  const shape = requestShapeOf(call.operation);
  return shape === undefined ? body : shape.withOutputCap(body, cap, call.provider);
}
