import { documentTokenBound, imageTokenBound } from '../tokens/attachment-token-bounds';
import type { RequestTally } from '../tokens/request-tally';
import {
  ANTHROPIC_TOKENS_PER_BLOCK,
  ANTHROPIC_TOKENS_PER_COMPUTER_USE_TOOL,
  ANTHROPIC_TOKENS_PER_CUSTOM_TOOL,
  ANTHROPIC_TOKENS_PER_DEFINED_TOOL,
  ANTHROPIC_TOKENS_PER_MCP_SERVER,
  ANTHROPIC_TOKENS_PER_MESSAGE,
  ANTHROPIC_TOKENS_PER_REQUEST,
  ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS,
} from '../tokens/token-overheads';
import { isRecord } from '../tokens/untrusted-json';
import { checkArrayField, readIntegerField } from './request-body-fields';
import { type RequestShape, withTopLevelOutputCap } from './request-shape';

function tallyDocument(block: Readonly<Record<string, unknown>>, tally: RequestTally): void {
  tally.addValue(block.title);
  tally.addValue(block.context);
  const source = isRecord(block.source) ? block.source : {};
  switch (source.type) {
    case 'text':
      tally.addValue(source.data);
      return;
    case 'content':
      tally.addContent(source.content, tallyBlock);
      return;
    case 'base64':
      tally.addTokens(documentTokenBound(tally.context, source.data));
      return;
    default:
      // url and file sources: the content is fetched by Anthropic and unseen here.
      tally.addTokens(documentTokenBound(tally.context, undefined));
  }
}

function tallyBlock(block: unknown, tally: RequestTally): void {
  tally.addTokens(ANTHROPIC_TOKENS_PER_BLOCK);
  if (typeof block === 'string') {
    tally.addText(block);
    return;
  }
  if (!isRecord(block)) {
    tally.addValue(block);
    return;
  }
  switch (block.type) {
    case 'text':
      tally.addValue(block.text);
      return;
    case 'image':
      tally.addTokens(imageTokenBound(tally.context));
      return;
    case 'document':
      tallyDocument(block, tally);
      return;
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      tally.addValue(block.name);
      tally.addValue(block.input);
      return;
    case 'tool_result':
    case 'mcp_tool_result':
      tally.addContent(block.content, tallyBlock);
      return;
    case 'thinking':
      // Thinking from earlier turns may be dropped by the API; counting it errs high.
      tally.addValue(block.thinking);
      return;
    case 'redacted_thinking':
      tally.addValue(block.data);
      return;
    default:
      // Search results, server tool results and unknown blocks: their JSON.
      tally.addValue(block);
  }
}

function tallyTool(tool: unknown, tally: RequestTally): void {
  if (isRecord(tool) && typeof tool.type === 'string' && tool.type !== 'custom') {
    // Anthropic-defined tools (bash_…, text_editor_…, web_search_…, computer_…) bring
    // their own definitions, larger than the JSON the caller sends.
    tally.addTokens(
      tool.type.startsWith('computer')
        ? ANTHROPIC_TOKENS_PER_COMPUTER_USE_TOOL
        : ANTHROPIC_TOKENS_PER_DEFINED_TOOL,
    );
  } else {
    tally.addTokens(ANTHROPIC_TOKENS_PER_CUSTOM_TOOL);
  }
  tally.addValue(tool);
}

/**
 * Adds everything an Anthropic Messages request is billed for as input.
 *
 * @param body - The request body.
 * @param tally - Where to add it.
 */
export function tallyAnthropicMessagesRequest(
  body: Readonly<Record<string, unknown>>,
  tally: RequestTally,
): void {
  tally.addTokens(ANTHROPIC_TOKENS_PER_REQUEST);
  const { system, messages, tools, mcp_servers: mcpServers } = body;
  if (system !== undefined && system !== null) {
    tally.addTokens(ANTHROPIC_TOKENS_PER_MESSAGE);
    tally.addContent(system, tallyBlock);
  }
  if (Array.isArray(messages)) {
    for (const message of messages) {
      tally.addTokens(ANTHROPIC_TOKENS_PER_MESSAGE);
      if (isRecord(message)) tally.addContent(message.content, tallyBlock);
      else tally.addValue(message);
    }
  } else {
    tally.addValue(messages);
  }

  const toolList = Array.isArray(tools) ? tools : [];
  const serverList = Array.isArray(mcpServers) ? mcpServers : [];
  if (toolList.length > 0 || serverList.length > 0) tally.addTokens(ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS);
  for (const tool of toolList) tallyTool(tool, tally);
  for (const server of serverList) {
    tally.addTokens(ANTHROPIC_TOKENS_PER_MCP_SERVER);
    tally.addValue(server);
  }
}

/**
 * Anthropic Messages (`POST /v1/messages`). Output cap: `max_tokens`, which includes any
 * thinking budget; always one choice.
 */
export const anthropicMessagesShape: RequestShape = {
  genAiOperationName: 'chat',
  tallyInput: tallyAnthropicMessagesRequest,
  checkBody(body) {
    checkArrayField(body, 'messages');
  },
  requestedOutputCap(body) {
    return readIntegerField(body, 'max_tokens', 0);
  },
  defaultOutputCap: undefined,
  outputCapField() {
    return 'max_tokens';
  },
  withOutputCap(body, cap, provider) {
    return withTopLevelOutputCap(anthropicMessagesShape, body, cap, provider);
  },
  choiceCount() {
    return 1;
  },
};
