import { invokeBodyOf } from './internal/bedrock-count-tokens';
import type { MockEndpoint } from './served-request';

/** Tokens charged for each chat message, system prompt or input item, on top of its text. */
export const MESSAGE_OVERHEAD_TOKENS = 3;
/** Tokens charged once per chat-style request for priming the reply. */
export const REPLY_PRIMING_TOKENS = 3;
/** Tokens charged for each image, audio, document or file part, whatever its size. */
export const ATTACHMENT_TOKENS = 85;

// Every word is a single token in both o200k_base and cl100k_base, with or without a
// leading space, so the generated text tokenizes to exactly one token per word.
const OUTPUT_WORDS = ['hello', 'world', 'this', 'is', 'a', 'mock', 'reply', 'from', 'the', 'model'] as const;

/**
 * The `index`-th output token: `Hello` first, then ` world`, ` this`, ... cycling through ten
 * words. Each is one token for billing and one token in o200k_base and cl100k_base.
 */
export function mockOutputWord(index: number): string {
  if (index === 0) return 'Hello';
  return ` ${OUTPUT_WORDS[index % OUTPUT_WORDS.length]}`;
}

/**
 * The text the mock generates for `tokens` output tokens.
 * @example mockOutputText(3) // 'Hello world this'
 */
export function mockOutputText(tokens: number): string {
  let text = '';
  for (let index = 0; index < tokens; index++) text += mockOutputWord(index);
  return text;
}

/** Number of whitespace-separated words in `text`. */
export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const space = code === 32 || (code >= 9 && code <= 13) || code === 160 || code === 0x3000;
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      words++;
    }
  }
  return words;
}

/**
 * The input tokens the mock bills for a request body, computed without any tokenizer:
 *
 * - text counts one token per whitespace-separated word;
 * - chat-style requests (chat completions, Responses, Anthropic messages and count_tokens) add
 *   `MESSAGE_OVERHEAD_TOKENS` per message, system prompt, `instructions` or input item, plus
 *   `REPLY_PRIMING_TOKENS` once;
 * - images, audio, documents and files count `ATTACHMENT_TOKENS` each;
 * - tool definitions, JSON schemas and tool-call arguments count one token per object key,
 *   per number/boolean/null, and per word of each string;
 * - embeddings and legacy completions count their input words (or token-array lengths), no overhead;
 * - Gemini and Vertex AI (`generate_content`, `count_tokens`) count like chat: each of `contents`
 *   and `systemInstruction` is a message, `inlineData` / `fileData` parts are attachments, function
 *   declarations and `responseSchema` / `responseJsonSchema` count as structure; `embed_content`
 *   counts the words of every text, no overhead;
 * - Bedrock `converse` counts `messages` and each `system` text block as messages; `invoke_model`
 *   counts the model's own body: Anthropic messages as Anthropic does, Nova messages as Converse,
 *   a `prompt` (Llama, Mistral) by its words only; `count_tokens` (Bedrock's `{ input }`) counts
 *   the Converse request or InvokeModel body it wraps.
 *
 * @param endpoint the operation the body is sent to.
 * @param body the request body as sent.
 * @returns the `prompt_tokens` / `input_tokens` the mock reports (before carving out cache reads).
 */
export function countMockInputTokens(endpoint: MockEndpoint, body: unknown): number {
  const request = isRecord(body) ? body : {};
  switch (endpoint) {
    case 'chat.completions':
      return chatTokens(request);
    case 'responses':
      return responsesTokens(request);
    case 'messages':
    case 'messages.count_tokens':
      return anthropicTokens(request);
    case 'embeddings':
      return promptTokens(request.input);
    case 'completions':
      return (
        promptTokens(request.prompt) + (typeof request.suffix === 'string' ? countWords(request.suffix) : 0)
      );
    case 'generate_content':
      return geminiTokens(request);
    case 'count_tokens':
      // Bedrock's CountTokens wraps a Converse request or an InvokeModel body in `input`.
      if (isRecord(request.input)) return bedrockCountTokens(request.input);
      return geminiTokens(
        isRecord(request.generateContentRequest) ? request.generateContentRequest : request,
      );
    case 'embed_content':
      return textWords(request);
    case 'converse':
      return converseTokens(request);
    case 'invoke_model':
      if (typeof request.prompt === 'string') return countWords(request.prompt);
      if (typeof request.anthropic_version === 'string') return anthropicTokens(request);
      return converseTokens(request);
  }
}

function bedrockCountTokens(input: Record<string, unknown>): number {
  if (isRecord(input.converse)) return converseTokens(input.converse);
  return countMockInputTokens('invoke_model', invokeBodyOf(input));
}

function geminiTokens(request: Record<string, unknown>): number {
  let tokens = REPLY_PRIMING_TOKENS;
  if (isRecord(request.systemInstruction)) {
    tokens += MESSAGE_OVERHEAD_TOKENS + partsTokens(request.systemInstruction.parts);
  }
  for (const content of arrayOf(request.contents)) {
    tokens += MESSAGE_OVERHEAD_TOKENS;
    if (isRecord(content)) tokens += partsTokens(content.parts);
  }
  for (const tool of arrayOf(request.tools)) tokens += structuredTokens(tool);
  const config = request.generationConfig;
  const schema = isRecord(config) ? (config.responseJsonSchema ?? config.responseSchema) : undefined;
  if (schema !== undefined) tokens += structuredTokens(schema);
  return tokens;
}

/** Gemini parts: text by words, inline or file data as an attachment, calls and results as structure. */
function partsTokens(parts: unknown): number {
  let tokens = 0;
  for (const part of arrayOf(parts)) {
    if (!isRecord(part)) continue;
    if (typeof part.text === 'string') tokens += countWords(part.text);
    else if (part.inlineData !== undefined || part.fileData !== undefined) tokens += ATTACHMENT_TOKENS;
    else tokens += structuredTokens(part);
  }
  return tokens;
}

function converseTokens(request: Record<string, unknown>): number {
  let tokens = REPLY_PRIMING_TOKENS;
  for (const block of arrayOf(request.system)) {
    if (isRecord(block) && typeof block.text === 'string') {
      tokens += MESSAGE_OVERHEAD_TOKENS + countWords(block.text);
    }
  }
  for (const message of arrayOf(request.messages)) {
    tokens += MESSAGE_OVERHEAD_TOKENS;
    if (isRecord(message)) tokens += converseContentTokens(message.content);
  }
  const toolConfig = request.toolConfig;
  if (isRecord(toolConfig)) for (const tool of arrayOf(toolConfig.tools)) tokens += structuredTokens(tool);
  return tokens;
}

const CONVERSE_ATTACHMENTS = ['image', 'document', 'video', 'audio'];

/** Converse (and Nova) content blocks, keyed by kind: `{ text }`, `{ image }`, `{ toolUse }`, ... */
function converseContentTokens(content: unknown): number {
  if (typeof content === 'string') return countWords(content);
  let tokens = 0;
  for (const block of arrayOf(content)) {
    if (!isRecord(block) || block.cachePoint !== undefined) continue;
    if (typeof block.text === 'string') tokens += countWords(block.text);
    else if (CONVERSE_ATTACHMENTS.some((kind) => block[kind] !== undefined)) tokens += ATTACHMENT_TOKENS;
    else if (isRecord(block.toolResult)) tokens += converseContentTokens(block.toolResult.content);
    else if (isRecord(block.reasoningContent)) tokens += textWords(block.reasoningContent);
    else tokens += structuredTokens(block);
  }
  return tokens;
}

/** Words of every string found under `text` or `content` keys (embedding requests in any shape). */
function textWords(value: unknown): number {
  if (Array.isArray(value)) {
    let tokens = 0;
    for (const item of value) tokens += textWords(item);
    return tokens;
  }
  if (!isRecord(value)) return 0;
  let tokens = 0;
  for (const key in value) {
    const item = value[key];
    if (typeof item === 'string') {
      if (key === 'text' || key === 'content') tokens += countWords(item);
    } else {
      tokens += textWords(item);
    }
  }
  return tokens;
}

function chatTokens(request: Record<string, unknown>): number {
  let tokens = REPLY_PRIMING_TOKENS;
  for (const message of arrayOf(request.messages)) {
    tokens += MESSAGE_OVERHEAD_TOKENS;
    if (!isRecord(message)) continue;
    tokens += contentTokens(message.content);
    if (typeof message.name === 'string') tokens += countWords(message.name);
    for (const call of arrayOf(message.tool_calls)) tokens += structuredTokens(call);
  }
  for (const tool of arrayOf(request.tools)) tokens += structuredTokens(tool);
  tokens += responseFormatTokens(request.response_format);
  return tokens;
}

function responsesTokens(request: Record<string, unknown>): number {
  let tokens = REPLY_PRIMING_TOKENS;
  if (typeof request.instructions === 'string') {
    tokens += MESSAGE_OVERHEAD_TOKENS + countWords(request.instructions);
  }
  if (typeof request.input === 'string') {
    tokens += MESSAGE_OVERHEAD_TOKENS + countWords(request.input);
  } else {
    for (const item of arrayOf(request.input)) {
      tokens += MESSAGE_OVERHEAD_TOKENS;
      if (!isRecord(item)) continue;
      if ('content' in item) tokens += contentTokens(item.content);
      else if ('output' in item) tokens += contentTokens(item.output);
      else tokens += structuredTokens(withoutType(item));
    }
  }
  for (const tool of arrayOf(request.tools)) tokens += structuredTokens(tool);
  const text = request.text;
  if (isRecord(text)) tokens += responseFormatTokens(text.format);
  return tokens;
}

function anthropicTokens(request: Record<string, unknown>): number {
  let tokens = REPLY_PRIMING_TOKENS;
  if (request.system !== undefined) tokens += MESSAGE_OVERHEAD_TOKENS + contentTokens(request.system);
  for (const message of arrayOf(request.messages)) {
    tokens += MESSAGE_OVERHEAD_TOKENS;
    if (isRecord(message)) tokens += contentTokens(message.content);
  }
  for (const tool of arrayOf(request.tools)) tokens += structuredTokens(tool);
  return tokens;
}

/** A prompt as embeddings and legacy completions take it: text, texts, or token arrays. */
function promptTokens(prompt: unknown): number {
  if (typeof prompt === 'string') return countWords(prompt);
  if (!Array.isArray(prompt)) return 0;
  let tokens = 0;
  for (const item of prompt) {
    if (typeof item === 'string') tokens += countWords(item);
    else if (typeof item === 'number') tokens += 1;
    else if (Array.isArray(item)) tokens += item.length;
  }
  return tokens;
}

const ATTACHMENT_TYPES = new Set([
  'image',
  'image_url',
  'input_image',
  'input_audio',
  'audio',
  'document',
  'file',
  'input_file',
]);

/** Message content in any provider's shape: a string or an array of typed parts. */
function contentTokens(content: unknown): number {
  if (typeof content === 'string') return countWords(content);
  if (!Array.isArray(content)) return content == null ? 0 : structuredTokens(content);
  let tokens = 0;
  for (const part of content) {
    if (typeof part === 'string') tokens += countWords(part);
    else if (!isRecord(part)) continue;
    else if (typeof part.type === 'string' && ATTACHMENT_TYPES.has(part.type)) tokens += ATTACHMENT_TOKENS;
    else if (typeof part.text === 'string') tokens += countWords(part.text);
    else if (typeof part.thinking === 'string') tokens += countWords(part.thinking);
    else if (part.type === 'tool_result') tokens += contentTokens(part.content);
    else tokens += structuredTokens(withoutType(part));
  }
  return tokens;
}

function responseFormatTokens(format: unknown): number {
  if (!isRecord(format) || format.type !== 'json_schema') return 0;
  const schema = isRecord(format.json_schema) ? format.json_schema.schema : format.schema;
  return structuredTokens(schema);
}

/** One token per object key, per scalar, and per word of each string. */
function structuredTokens(value: unknown): number {
  if (typeof value === 'string') return countWords(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return 1;
  if (Array.isArray(value)) {
    let tokens = 0;
    for (const item of value) tokens += structuredTokens(item);
    return tokens;
  }
  if (isRecord(value)) {
    let tokens = 0;
    for (const key in value) tokens += 1 + structuredTokens(value[key]);
    return tokens;
  }
  return 0;
}

function withoutType(record: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, id: _id, ...rest } = record;
  return rest;
}

function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
