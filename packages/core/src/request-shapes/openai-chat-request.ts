import { providerProfile } from '../providers/provider-profiles';
import { audioTokenBound, documentTokenBound, imageTokenBound } from '../tokens/attachment-token-bounds';
import type { RequestTally } from '../tokens/request-tally';
import {
  OPENAI_REPLY_PRIMING_TOKENS,
  OPENAI_TOKENS_PER_BUILT_IN_TOOL,
  OPENAI_TOKENS_PER_CONTENT_PART,
  OPENAI_TOKENS_PER_FUNCTION_TOOL,
  OPENAI_TOKENS_PER_MESSAGE,
  OPENAI_TOKENS_PER_NAME,
  OPENAI_TOKENS_PER_RESPONSE_FORMAT,
  OPENAI_TOKENS_PER_TOOL_CALL,
} from '../tokens/token-overheads';
import { isRecord } from '../tokens/untrusted-json';
import { checkArrayField, readIntegerField } from './request-body-fields';
import { type RequestShape, withTopLevelOutputCap } from './request-shape';

/**
 * A function or custom tool call as it appears in history: the name and arguments are
 * rendered back to the model.
 */
export function tallyToolCall(call: unknown, tally: RequestTally): void {
  tally.addTokens(OPENAI_TOKENS_PER_TOOL_CALL);
  if (!isRecord(call)) {
    tally.addValue(call);
    return;
  }
  const fn = isRecord(call.function) ? call.function : isRecord(call.custom) ? call.custom : call;
  if (typeof fn.name !== 'string') {
    tally.addValue(call);
    return;
  }
  tally.addText(fn.name);
  tally.addValue(fn.arguments ?? fn.input);
}

/** One function-style tool definition: its JSON plus the rendering header. */
export function tallyFunctionTool(tool: unknown, tally: RequestTally): void {
  tally.addTokens(OPENAI_TOKENS_PER_FUNCTION_TOOL);
  tally.addValue(tool);
}

function tallyContentPart(part: unknown, tally: RequestTally): void {
  tally.addTokens(OPENAI_TOKENS_PER_CONTENT_PART);
  if (typeof part === 'string') {
    tally.addText(part);
    return;
  }
  if (!isRecord(part)) {
    tally.addValue(part);
    return;
  }
  switch (part.type) {
    case 'text':
      tally.addValue(part.text);
      return;
    case 'refusal':
      tally.addValue(part.refusal);
      return;
    case 'image_url': {
      const image = part.image_url;
      tally.addTokens(imageTokenBound(tally.context, isRecord(image) ? image.detail : undefined));
      return;
    }
    case 'input_audio': {
      const audio = isRecord(part.input_audio) ? part.input_audio : {};
      tally.addTokens(audioTokenBound(audio.data, audio.format));
      return;
    }
    case 'file': {
      const file = isRecord(part.file) ? part.file : {};
      tally.addTokens(documentTokenBound(tally.context, file.file_data));
      tally.addValue(file.filename);
      return;
    }
    default:
      // An unknown part type is still sent to the model: count its JSON, never zero.
      tally.addValue(part);
  }
}

function tallyMessage(message: unknown, tally: RequestTally): void {
  tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
  if (!isRecord(message)) {
    tally.addValue(message);
    return;
  }
  if (typeof message.name === 'string') {
    tally.addText(message.name);
    tally.addTokens(OPENAI_TOKENS_PER_NAME);
  }
  tally.addContent(message.content, tallyContentPart);
  if (typeof message.refusal === 'string') tally.addText(message.refusal);
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) tallyToolCall(call, tally);
  }
  if (message.function_call !== undefined && message.function_call !== null) {
    tallyToolCall(message.function_call, tally);
  }
}

/**
 * A structured-output schema is rendered into the prompt.
 *
 * @param format - `response_format` (chat) or `text.format` (responses).
 * @param tally - Where to add it.
 */
export function tallyResponseFormat(format: unknown, tally: RequestTally): void {
  if (!isRecord(format) || format.type !== 'json_schema') return;
  tally.addTokens(OPENAI_TOKENS_PER_RESPONSE_FORMAT);
  // Chat nests the schema under `json_schema`; the Responses API puts it on the format itself.
  tally.addValue(format.json_schema ?? format.schema);
}

/**
 * Adds everything an OpenAI Chat Completions request is billed for as input.
 *
 * @param body - The request body.
 * @param tally - Where to add it.
 */
export function tallyOpenAiChatRequest(body: Readonly<Record<string, unknown>>, tally: RequestTally): void {
  const { messages, tools, functions } = body;
  if (Array.isArray(messages)) {
    for (const message of messages) tallyMessage(message, tally);
  } else {
    tally.addValue(messages);
  }
  tally.addTokens(OPENAI_REPLY_PRIMING_TOKENS);

  if (Array.isArray(tools)) {
    for (const tool of tools)
      tallyFunctionTool(isRecord(tool) && isRecord(tool.function) ? tool.function : tool, tally);
  }
  if (Array.isArray(functions)) {
    for (const fn of functions) tallyFunctionTool(fn, tally);
  }
  // A named tool_choice is rendered as an instruction to call that tool.
  if (isRecord(body.tool_choice)) tally.addValue(body.tool_choice);
  tallyResponseFormat(body.response_format, tally);
  // Search-enabled chat models add server-side search instructions like a built-in tool.
  if (body.web_search_options !== undefined && body.web_search_options !== null) {
    tally.addTokens(OPENAI_TOKENS_PER_BUILT_IN_TOOL);
  }
}

/**
 * OpenAI Chat Completions (`POST /chat/completions`), also spoken by most OpenAI-compatible
 * servers. Output cap: `max_completion_tokens` or the older `max_tokens` (the larger, if both
 * are set); choices: `n`.
 */
export const openAiChatShape: RequestShape = {
  genAiOperationName: 'chat',
  tallyInput: tallyOpenAiChatRequest,
  checkBody(body) {
    checkArrayField(body, 'messages');
  },
  requestedOutputCap(body) {
    const completion = readIntegerField(body, 'max_completion_tokens', 0);
    const legacy = readIntegerField(body, 'max_tokens', 0);
    if (completion === undefined) return legacy;
    return legacy === undefined ? completion : Math.max(completion, legacy);
  },
  defaultOutputCap: undefined,
  outputCapField(provider) {
    return providerProfile(provider)?.readsMaxCompletionTokens ? 'max_completion_tokens' : 'max_tokens';
  },
  withOutputCap(body, cap, provider) {
    return withTopLevelOutputCap(openAiChatShape, body, cap, provider);
  },
  choiceCount(body) {
    return readIntegerField(body, 'n', 1) ?? 1;
  },
};
