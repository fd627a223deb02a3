import { audioTokenBound, documentTokenBound, imageTokenBound } from '../tokens/attachment-token-bounds';
import type { RequestTally } from '../tokens/request-tally';
import {
  OPENAI_REPLY_PRIMING_TOKENS,
  OPENAI_TOKENS_PER_BUILT_IN_TOOL,
  OPENAI_TOKENS_PER_CONTENT_PART,
  OPENAI_TOKENS_PER_MESSAGE,
} from '../tokens/token-overheads';
import { isRecord } from '../tokens/untrusted-json';
import { tallyFunctionTool, tallyResponseFormat, tallyToolCall } from './openai-chat-request';
import { checkTextOrArrayField, readIntegerField } from './request-body-fields';
import { type RequestShape, withTopLevelOutputCap } from './request-shape';

/** Tool types defined by the caller; every other type is a built-in tool run by OpenAI. */
const CALLER_DEFINED_TOOL_TYPES = new Set(['function', 'custom']);

function tallyInputPart(part: unknown, tally: RequestTally): void {
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
    case 'input_text':
    case 'output_text':
    case 'text':
      tally.addValue(part.text);
      return;
    case 'refusal':
      tally.addValue(part.refusal);
      return;
    case 'input_image':
      tally.addTokens(imageTokenBound(tally.context, part.detail));
      return;
    case 'input_file':
      // file_data is inline; file_id and file_url point at content Tollgate cannot see.
      tally.addTokens(documentTokenBound(tally.context, part.file_data));
      tally.addValue(part.filename);
      return;
    case 'input_audio': {
      const audio = isRecord(part.input_audio) ? part.input_audio : part;
      tally.addTokens(audioTokenBound(audio.data, audio.format));
      return;
    }
    default:
      tally.addValue(part);
  }
}

function tallyInputItem(item: unknown, tally: RequestTally): void {
  if (!isRecord(item)) {
    tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
    tally.addValue(item);
    return;
  }
  switch (item.type) {
    case 'function_call':
    case 'custom_tool_call':
      tallyToolCall(item, tally);
      return;
    case 'function_call_output':
    case 'custom_tool_call_output':
      tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
      tally.addContent(item.output, tallyInputPart);
      return;
    case 'reasoning':
      // Reasoning passed back is billed as input; encrypted content is counted as text,
      // which over-counts (base64 of ciphertext tokenizes at ~2.5 bytes per token).
      tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
      tally.addValue(item.summary);
      tally.addValue(item.content);
      tally.addValue(item.encrypted_content);
      return;
    case 'computer_call_output': {
      tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
      const output = isRecord(item.output) ? item.output : {};
      tally.addTokens(imageTokenBound(tally.context, output.detail));
      return;
    }
    default:
      if (item.type === 'message' || (item.type === undefined && 'role' in item)) {
        tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
        tally.addContent(item.content, tallyInputPart);
        return;
      }
      // Other items (tool call records, item references) are counted by their JSON.
      tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
      tally.addValue(item);
  }
}

/**
 * Adds everything an OpenAI Responses request is billed for as input. Context held by
 * OpenAI (`previous_response_id`, `conversation`, stored prompt templates) is not in the
 * body and cannot be counted.
 *
 * @param body - The request body.
 * @param tally - Where to add it.
 */
export function tallyOpenAiResponsesRequest(
  body: Readonly<Record<string, unknown>>,
  tally: RequestTally,
): void {
  const { input, instructions, tools } = body;
  if (Array.isArray(input)) {
    for (const item of input) tallyInputItem(item, tally);
  } else if (input !== undefined && input !== null) {
    tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
    tally.addValue(input);
  }
  if (Array.isArray(instructions)) {
    for (const item of instructions) tallyInputItem(item, tally);
  } else if (instructions !== undefined && instructions !== null) {
    tally.addTokens(OPENAI_TOKENS_PER_MESSAGE);
    tally.addValue(instructions);
  }
  tally.addTokens(OPENAI_REPLY_PRIMING_TOKENS);

  if (Array.isArray(tools)) {
    for (const tool of tools) {
      if (isRecord(tool) && typeof tool.type === 'string' && !CALLER_DEFINED_TOOL_TYPES.has(tool.type)) {
        // Built-in tools carry server-side instructions billed as input.
        tally.addTokens(OPENAI_TOKENS_PER_BUILT_IN_TOOL);
        tally.addValue(tool);
      } else {
        tallyFunctionTool(tool, tally);
      }
    }
  }
  if (isRecord(body.tool_choice)) tally.addValue(body.tool_choice);
  if (isRecord(body.text)) tallyResponseFormat(body.text.format, tally);
  // A stored prompt's own text is unknown; its variables are substituted into it.
  if (isRecord(body.prompt)) tally.addValue(body.prompt.variables);
}

/** OpenAI Responses (`POST /responses`). Output cap: `max_output_tokens`; always one choice. */
export const openAiResponsesShape: RequestShape = {
  genAiOperationName: 'chat',
  tallyInput: tallyOpenAiResponsesRequest,
  checkBody(body) {
    checkTextOrArrayField(body, 'input');
  },
  requestedOutputCap(body) {
    return readIntegerField(body, 'max_output_tokens', 0);
  },
  defaultOutputCap: undefined,
  outputCapField() {
    return 'max_output_tokens';
  },
  withOutputCap(body, cap, provider) {
    return withTopLevelOutputCap(openAiResponsesShape, body, cap, provider);
  },
  choiceCount() {
    return 1;
  },
};
