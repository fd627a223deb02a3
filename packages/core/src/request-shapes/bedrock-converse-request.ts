import { InvalidRequestError } from '../errors/invalid-request-error';
import { documentTokenBound, imageTokenBound } from '../tokens/attachment-token-bounds';
import type { RequestTally } from '../tokens/request-tally';
import { ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS } from '../tokens/token-overheads';
import { isRecord } from '../tokens/untrusted-json';
import { checkArrayField } from './request-body-fields';
import type { RequestBody, RequestShape } from './request-shape';

/** Role and turn markers the model's chat template wraps around each message. */
const BEDROCK_TOKENS_PER_MESSAGE = 4;
/** Template tokens around a whole conversation (start of text, assistant priming). */
const BEDROCK_TOKENS_PER_REQUEST = 3;
/** Framing of one tool definition beyond its JSON (names, separators). */
const BEDROCK_TOKENS_PER_TOOL = 10;

/** Bedrock sends attachments as raw bytes (SDK input) or base64 (InvokeModel JSON): base64 either way for the bounds. */
function base64Of(bytes: unknown): string | undefined {
  if (typeof bytes === 'string') return bytes;
  if (bytes instanceof Uint8Array)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return undefined;
}

function tallyBlock(block: unknown, tally: RequestTally): void {
  if (!isRecord(block)) {
    tally.addValue(block);
    return;
  }
  // A content block is a union: exactly one member is set.
  if (typeof block.text === 'string') tally.addText(block.text);
  else if (isRecord(block.image)) tally.addTokens(imageTokenBound(tally.context));
  else if (isRecord(block.document)) {
    const source = isRecord(block.document.source) ? block.document.source : {};
    if (typeof source.text === 'string') tally.addText(source.text);
    else tally.addTokens(documentTokenBound(tally.context, base64Of(source.bytes)));
  } else if (isRecord(block.video)) {
    // Video is billed by its frames; unseen here, it is reserved like an unseen document.
    tally.addTokens(documentTokenBound(tally.context, undefined));
  } else if (isRecord(block.toolUse)) {
    tally.addValue(block.toolUse.name);
    tally.addValue(block.toolUse.input);
  } else if (isRecord(block.toolResult)) tally.addContent(block.toolResult.content, tallyBlock);
  else if (isRecord(block.reasoningContent)) {
    const text = isRecord(block.reasoningContent.reasoningText)
      ? block.reasoningContent.reasoningText.text
      : undefined;
    tally.addValue(text ?? block.reasoningContent.redactedContent);
  } else if (block.json !== undefined) tally.addValue(block.json);
  else if (block.cachePoint === undefined) tally.addValue(block);
}

/**
 * Adds everything a Converse-layout request is billed for as input: `system` blocks,
 * `messages` and their content blocks, and `toolConfig.tools`. Amazon Nova's InvokeModel body
 * (`schemaVersion: 'messages-v1'`) has the same layout.
 *
 * @param body - The Converse input (or Nova body).
 * @param tally - Where to add it.
 */
export function tallyBedrockConverseRequest(body: RequestBody, tally: RequestTally): void {
  tally.addTokens(BEDROCK_TOKENS_PER_REQUEST);
  const { system, messages, toolConfig } = body;
  if (Array.isArray(system)) {
    tally.addTokens(BEDROCK_TOKENS_PER_MESSAGE);
    for (const block of system) tallyBlock(block, tally);
  } else tally.addValue(system);
  if (Array.isArray(messages)) {
    for (const message of messages) {
      tally.addTokens(BEDROCK_TOKENS_PER_MESSAGE);
      if (isRecord(message)) tally.addContent(message.content, tallyBlock);
      else tally.addValue(message);
    }
  } else tally.addValue(messages);
  const tools = isRecord(toolConfig) && Array.isArray(toolConfig.tools) ? toolConfig.tools : [];
  // Claude on Bedrock gets the same hidden tool-use system prompt as on Anthropic's API.
  if (tools.length > 0 && tally.context.claude) tally.addTokens(ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS);
  for (const tool of tools) {
    tally.addTokens(BEDROCK_TOKENS_PER_TOOL);
    tally.addValue(tool);
  }
}

/**
 * Reads an optional integer one level down (`inferenceConfig.maxTokens`); an unset
 * `inferenceConfig` or field means "not set".
 *
 * @throws {InvalidRequestError} Naming `parent.field`, when set to anything but an integer >= `minimum`.
 */
function readNestedIntegerField(
  body: RequestBody,
  parent: string,
  field: string,
  minimum: number,
): number | undefined {
  const holder = body[parent];
  if (holder === undefined || holder === null) return undefined;
  if (!isRecord(holder)) throw new InvalidRequestError(parent, 'an object', holder);
  const value = holder[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum)
    throw new InvalidRequestError(`${parent}.${field}`, `an integer >= ${minimum}`, value);
  return value;
}

/** `body` with `parent.field` set to `cap`, the rest of `parent` kept. */
function withNestedOutputCap<T extends RequestBody>(body: T, parent: string, field: string, cap: number): T {
  const holder = isRecord(body[parent]) ? body[parent] : {};
  return { ...body, [parent]: { ...holder, [field]: cap } };
}

/**
 * A request in Converse's message layout (`messages`, `system`, tools) whose output cap is
 * `inferenceConfig[capKey]`: the model's maximum when unset; always one choice.
 */
export function converseLayoutShape(capKey: 'maxTokens' | 'max_new_tokens'): RequestShape {
  const shape: RequestShape = {
    genAiOperationName: 'chat',
    tallyInput: tallyBedrockConverseRequest,
    checkBody(body) {
      checkArrayField(body, 'messages');
      checkArrayField(body, 'system');
    },
    requestedOutputCap(body) {
      return readNestedIntegerField(body, 'inferenceConfig', capKey, 1);
    },
    defaultOutputCap: undefined,
    outputCapField() {
      return `inferenceConfig.${capKey}`;
    },
    withOutputCap(body, cap) {
      if (shape.requestedOutputCap(body) !== undefined) return body;
      return withNestedOutputCap(body, 'inferenceConfig', capKey, cap);
    },
    choiceCount() {
      return 1;
    },
  };
  return shape;
}

/**
 * Amazon Bedrock Converse and ConverseStream (the SDK's command input), cap in
 * `inferenceConfig.maxTokens` (thinking budgets sent in `additionalModelRequestFields` count
 * inside it).
 */
export const bedrockConverseShape: RequestShape = converseLayoutShape('maxTokens');
