import { Buffer } from 'node:buffer';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { audioTokenBound, documentTokenBound, imageTokenBound } from '../tokens/attachment-token-bounds';
import type { RequestTally } from '../tokens/request-tally';
import {
  ANTHROPIC_TOKENS_PER_BLOCK,
  ANTHROPIC_TOKENS_PER_COMPUTER_USE_TOOL,
  ANTHROPIC_TOKENS_PER_CUSTOM_TOOL,
  ANTHROPIC_TOKENS_PER_DEFINED_TOOL,
  ANTHROPIC_TOKENS_PER_MESSAGE,
  ANTHROPIC_TOKENS_PER_REQUEST,
  ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS,
  OPENAI_REPLY_PRIMING_TOKENS,
  OPENAI_TOKENS_PER_BUILT_IN_TOOL,
  OPENAI_TOKENS_PER_CONTENT_PART,
  OPENAI_TOKENS_PER_FUNCTION_TOOL,
  OPENAI_TOKENS_PER_MESSAGE,
  OPENAI_TOKENS_PER_RESPONSE_FORMAT,
  OPENAI_TOKENS_PER_TOOL_CALL,
} from '../tokens/token-overheads';
import { isRecord } from '../tokens/untrusted-json';
import { GEMINI_IMAGE_TOKENS } from './gemini-generate-content-request';
import type { RequestBody, RequestShape } from './request-shape';

// The Vercel AI SDK's language-model call options (`LanguageModelV3CallOptions`, and v2/v4, which
// share the fields read here): `prompt` is a list of `{ role, content }` messages whose content is
// a string (system) or a list of parts. Each provider package turns them into its own request, so
// the overheads below are those of the provider family the model belongs to, which the tally's
// context tells: Claude gets Anthropic's framing, every other model OpenAI's (the larger of
// OpenAI's and Gemini's).

/** Gemini bills audio at 32 tokens a second; compressed audio carries at least 1,000 bytes a second. */
const GEMINI_AUDIO_TOKENS_PER_BYTE = 32 / 1000;

/** Anthropic's default thinking budget in `@ai-sdk/anthropic` when thinking is enabled without one. */
const ANTHROPIC_DEFAULT_THINKING_BUDGET = 1024;

function isGemini(tally: RequestTally): boolean {
  return /(^|\/)gemini/i.test(tally.context.model);
}

/** Base64 of a file's data in any form the SDK passes it (bytes, base64, a data URL); undefined for a URL. */
function inlineData(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array)
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('base64');
  return undefined;
}

/** A file part's data: v2/v3 put it (or a URL) in `data`, v4 wraps it as `{ type: 'data' | 'url' | 'text' | 'reference' }`. */
function fileData(part: Readonly<Record<string, unknown>>): { inline?: string; text?: string } {
  const data = part.data;
  if (isRecord(data) && typeof data.type === 'string' && !(data instanceof Uint8Array)) {
    if (data.type === 'text' && typeof data.text === 'string') return { text: data.text };
    if (data.type === 'data') {
      const inline = inlineData(data.data);
      return inline === undefined ? {} : { inline };
    }
    return {};
  }
  const inline = inlineData(data);
  return inline === undefined ? {} : { inline };
}

/** Tokens a file part can cost, by its media type: images, audio and documents by their bounds. */
function tallyFile(part: Readonly<Record<string, unknown>>, tally: RequestTally): void {
  const mediaType = typeof part.mediaType === 'string' ? part.mediaType.toLowerCase() : '';
  const { inline, text } = fileData(part);
  if (text !== undefined) {
    tally.addText(text);
    return;
  }
  if (mediaType.startsWith('image')) {
    tally.addTokens(isGemini(tally) ? GEMINI_IMAGE_TOKENS : imageTokenBound(tally.context, 'high'));
    return;
  }
  if (mediaType.startsWith('audio/') && inline !== undefined) {
    const format = mediaType.includes('wav') || mediaType.includes('pcm') ? 'wav' : mediaType;
    const bound = audioTokenBound(inline, format);
    const geminiBound = Math.ceil((inline.length * 3) / 4) * GEMINI_AUDIO_TOKENS_PER_BYTE;
    tally.addTokens(isGemini(tally) ? Math.max(bound, geminiBound) : bound);
    return;
  }
  // PDFs by their pages, other inline files (video included) by their bytes, unseen files at the shared allowance.
  tally.addTokens(documentTokenBound(tally.context, inline));
}

/** A tool result's `output`: text and JSON as the model reads them, `content` part by part. */
function tallyToolOutput(output: unknown, tally: RequestTally): void {
  if (!isRecord(output)) {
    tally.addValue(output);
    return;
  }
  if (output.type === 'content' && Array.isArray(output.value)) {
    for (const item of output.value) tallyPart(item, tally);
    return;
  }
  tally.addValue(output.value ?? output.reason ?? output);
}

function tallyPart(part: unknown, tally: RequestTally): void {
  tally.addTokens(tally.context.claude ? ANTHROPIC_TOKENS_PER_BLOCK : OPENAI_TOKENS_PER_CONTENT_PART);
  if (!isRecord(part)) {
    tally.addValue(part);
    return;
  }
  switch (part.type) {
    case 'text':
    case 'reasoning':
      tally.addValue(part.text);
      return;
    case 'file':
    case 'media':
    case 'image-data':
    case 'file-data':
    case 'image-url':
    case 'file-url':
    case 'image':
      tallyFile(part, tally);
      return;
    case 'tool-call':
      tally.addTokens(OPENAI_TOKENS_PER_TOOL_CALL);
      tally.addValue(part.toolName);
      tally.addValue(part.input ?? part.args);
      return;
    case 'tool-result':
      tally.addValue(part.toolName);
      tallyToolOutput(part.output ?? part.result, tally);
      return;
    default:
      // Approval responses, provider-specific parts and anything newer: their JSON.
      tally.addValue(part);
  }
}

function tallyMessage(message: unknown, tally: RequestTally): void {
  tally.addTokens(tally.context.claude ? ANTHROPIC_TOKENS_PER_MESSAGE : OPENAI_TOKENS_PER_MESSAGE);
  if (!isRecord(message)) {
    tally.addValue(message);
    return;
  }
  tally.addContent(message.content, tallyPart);
}

function tallyTools(tools: unknown, tally: RequestTally): void {
  if (!Array.isArray(tools) || tools.length === 0) return;
  const claude = tally.context.claude;
  if (claude) tally.addTokens(ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS);
  for (const tool of tools) {
    const builtIn = isRecord(tool) && tool.type !== 'function';
    if (!builtIn)
      tally.addTokens(claude ? ANTHROPIC_TOKENS_PER_CUSTOM_TOOL : OPENAI_TOKENS_PER_FUNCTION_TOOL);
    else if (!claude) tally.addTokens(OPENAI_TOKENS_PER_BUILT_IN_TOOL);
    else
      tally.addTokens(
        String(tool.id ?? '').includes('computer')
          ? ANTHROPIC_TOKENS_PER_COMPUTER_USE_TOOL
          : ANTHROPIC_TOKENS_PER_DEFINED_TOOL,
      );
    tally.addValue(tool);
  }
}

/**
 * Adds everything an AI SDK language-model call is billed for as input: the prompt's messages
 * (text, reasoning, files, tool calls and results), the tools and the response format's schema.
 * A JSON response format on a Claude model may be sent as a forced tool, so it also counts
 * Anthropic's tool-use system prompt.
 *
 * @param body - The call options `doGenerate` / `doStream` receive.
 * @param tally - Where to add it.
 */
export function tallyAiSdkPromptRequest(body: RequestBody, tally: RequestTally): void {
  const claude = tally.context.claude;
  tally.addTokens(claude ? ANTHROPIC_TOKENS_PER_REQUEST : OPENAI_REPLY_PRIMING_TOKENS);
  if (Array.isArray(body.prompt)) for (const message of body.prompt) tallyMessage(message, tally);
  else tally.addValue(body.prompt);
  tallyTools(body.tools, tally);
  tally.addValue(body.toolChoice);
  const format = body.responseFormat;
  if (isRecord(format) && format.type === 'json') {
    tally.addTokens(OPENAI_TOKENS_PER_RESPONSE_FORMAT);
    if (claude) tally.addTokens(ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS + ANTHROPIC_TOKENS_PER_CUSTOM_TOOL);
    tally.addValue(format.schema);
    tally.addValue(format.name);
    tally.addValue(format.description);
  }
}

function readMaxOutputTokens(body: RequestBody): number | undefined {
  const value = body.maxOutputTokens;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new InvalidRequestError('maxOutputTokens', 'a non-negative integer', value);
  return value;
}

/**
 * The thinking budget `@ai-sdk/anthropic` adds on top of `maxOutputTokens` when
 * `providerOptions.anthropic.thinking` is `{ type: 'enabled' }`: its `max_tokens` is their sum.
 */
function anthropicThinkingBudget(body: RequestBody): number {
  const anthropic = isRecord(body.providerOptions) ? body.providerOptions.anthropic : undefined;
  const thinking = isRecord(anthropic) ? anthropic.thinking : undefined;
  if (!isRecord(thinking) || thinking.type !== 'enabled') return 0;
  const budget = thinking.budgetTokens;
  return typeof budget === 'number' && Number.isSafeInteger(budget) && budget > 0
    ? budget
    : ANTHROPIC_DEFAULT_THINKING_BUDGET;
}

/**
 * A Vercel AI SDK language-model call (`doGenerate` / `doStream` of any provider's model). Output
 * cap: `maxOutputTokens`, which every provider package sends as its own cap field (plus the
 * thinking budget for Anthropic with thinking enabled); always one choice.
 */
export const aiSdkPromptShape: RequestShape = {
  genAiOperationName: 'chat',
  tallyInput: tallyAiSdkPromptRequest,
  checkBody(body) {
    if (body.prompt !== undefined && body.prompt !== null && !Array.isArray(body.prompt))
      throw new InvalidRequestError('prompt', 'an array of messages', body.prompt);
  },
  requestedOutputCap(body) {
    const cap = readMaxOutputTokens(body);
    return cap === undefined ? undefined : cap + anthropicThinkingBudget(body);
  },
  defaultOutputCap: undefined,
  outputCapField() {
    return 'maxOutputTokens';
  },
  withOutputCap(body, cap) {
    if (readMaxOutputTokens(body) !== undefined) return body;
    return { ...body, maxOutputTokens: Math.max(1, cap - anthropicThinkingBudget(body)) };
  },
  choiceCount() {
    return 1;
  },
};
