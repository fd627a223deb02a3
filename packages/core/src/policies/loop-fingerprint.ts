import { createHash } from 'node:crypto';
import { canonicalJson } from '../call/canonical-json';
import type { LlmCallDescriptor } from '../call/llm-call';
import type { LoopRepeatKind } from './loop-rule';

/**
 * Top-level request fields that change how an answer is delivered or recorded, never what
 * it says: streaming, end-user ids, metadata, storage and cache hints. Two requests that
 * differ only in these are repeats.
 */
const DELIVERY_FIELDS = new Set([
  'stream',
  'stream_options',
  'user',
  'metadata',
  'store',
  'safety_identifier',
  'prompt_cache_key',
  'requestMetadata',
]);

/** google-genai's per-call transport options, which travel inside `config`. */
const TRANSPORT_CONFIG_FIELDS = new Set(['httpOptions', 'abortSignal']);

/** Where each request format keeps its conversation. */
const CONVERSATION_FIELDS = ['messages', 'input', 'contents'] as const;

/** Roles whose messages set up the conversation rather than continue it. */
const INSTRUCTION_ROLES = new Set(['system', 'developer']);

/** Content parts that carry a tool's result back to the model, per request format. */
const TOOL_RESULT_TYPES = new Set(['tool_result', 'function_call_output', 'tool_call_output']);
const TOOL_RESULT_KEYS = ['toolResult', 'functionResponse'];

/**
 * A digest of what makes two requests the same question: provider, operation, model and the
 * body in canonical form (keys sorted, delivery fields left out). For `same-turn`, the
 * conversation is cut down to its instructions and the last message a person wrote.
 */
export function loopFingerprint(call: LlmCallDescriptor, repeats: LoopRepeatKind): string {
  const body = withoutDeliveryFields(call.body);
  if (repeats === 'same-turn') cutToTurn(body);
  const hash = createHash('sha256');
  hash.update(`${call.provider.toLowerCase()}\n${call.operation}\n${call.model.toLowerCase()}\n`);
  hash.update(canonicalJson(body, 'describe')!);
  return hash.digest('base64url');
}

function withoutDeliveryFields(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (DELIVERY_FIELDS.has(key)) continue;
    if (key === 'config' && isPlainObject(value)) {
      kept[key] = Object.fromEntries(
        Object.entries(value).filter(([name]) => !TRANSPORT_CONFIG_FIELDS.has(name)),
      );
    } else kept[key] = value;
  }
  return kept;
}

/** Keeps, of the conversation, the instruction messages and the last message a person wrote. */
function cutToTurn(body: Record<string, unknown>): void {
  for (const field of CONVERSATION_FIELDS) {
    const conversation = body[field];
    if (!Array.isArray(conversation)) continue;
    const lastPerson = conversation.findLastIndex(isWrittenByPerson);
    body[field] = conversation.filter(
      (message, index) => index === lastPerson || INSTRUCTION_ROLES.has(roleOf(message) ?? ''),
    );
    return;
  }
}

function roleOf(message: unknown): string | undefined {
  return isPlainObject(message) && typeof message.role === 'string' ? message.role : undefined;
}

/** A `user` message that is not only tool results (Anthropic, Gemini and Bedrock send those as `user`). */
function isWrittenByPerson(message: unknown): boolean {
  if (roleOf(message) !== 'user') return false;
  const { content, parts } = message as Record<string, unknown>;
  const items = Array.isArray(content) ? content : Array.isArray(parts) ? parts : undefined;
  return items === undefined || items.length === 0 || !items.every(isToolResult);
}

function isToolResult(part: unknown): boolean {
  if (!isPlainObject(part)) return false;
  if (typeof part.type === 'string' && TOOL_RESULT_TYPES.has(part.type)) return true;
  return TOOL_RESULT_KEYS.some((key) => part[key] !== undefined);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
