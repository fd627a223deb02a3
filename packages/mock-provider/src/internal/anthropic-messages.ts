import type { Frame, Reply } from './exchange';
import { planOutput, type ToolChoice, wordPieces } from './output-plan';
import {
  eventFrame,
  integerField,
  isRecord,
  parseJsonOr,
  type ReplyContext,
  splitInput,
} from './reply-context';

export function validateMessages(body: Record<string, unknown>, countOnly: boolean): string | undefined {
  if (typeof body.model !== 'string') return 'model: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  if (!countOnly && integerField(body, 'max_tokens') === undefined) return 'max_tokens: Field required';
  return undefined;
}

/** `POST /v1/messages/count_tokens`: `{ input_tokens }` by the mock's counting scheme. Free. */
export function countTokensReply(context: ReplyContext): Reply {
  return {
    type: 'json',
    status: 200,
    body: { input_tokens: context.inputTokens },
    usage: {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
      reasoningOutputTokens: 0,
    },
  };
}

/**
 * `POST /v1/messages` (and `?beta=true`): a `message`, or the event stream `message_start`,
 * `content_block_*`, `ping`, `message_delta` with cumulative usage, `message_stop`. With
 * `thinking` enabled and `reasoningTokens` set, a thinking block comes first.
 */
export function messagesReply(context: ReplyContext): Reply {
  const { body, model } = context;
  const thinking = isRecord(body.thinking) ? body.thinking : undefined;
  const plan = planOutput({
    behaviour: context.behaviour,
    maxTokens: integerField(body, 'max_tokens'),
    reasons: thinking?.type === 'enabled' || thinking?.type === 'adaptive',
    reasoningBudget: thinking ? integerField(thinking, 'budget_tokens') : undefined,
    schema: outputSchema(body),
    tool: chooseTool(body, context.behaviour.toolCalls),
  });
  const input = splitInput('anthropic', context);
  const outputTokens = plan.reasoningTokens + plan.pieces.length;
  const stopReason = plan.truncated ? 'max_tokens' : plan.tool ? 'tool_use' : 'end_turn';
  const hideUsage =
    context.malformedUsage || (context.stream && context.behaviour.includeUsageInStream === 'never');
  const inputUsage = {
    input_tokens: input.inputTokens - input.cacheReadInputTokens - input.cacheWriteInputTokens,
    cache_creation_input_tokens: input.cacheWriteInputTokens,
    cache_read_input_tokens: input.cacheReadInputTokens,
  };
  const usage = (output: number): Record<string, unknown> => {
    // The SDK dereferences `usage`, so "no usage" is an empty object rather than a missing one.
    if (hideUsage) return {};
    const reported: Record<string, unknown> = {
      ...inputUsage,
      cache_creation: {
        ephemeral_5m_input_tokens: input.cacheWriteInputTokens,
        ephemeral_1h_input_tokens: 0,
      },
      output_tokens: output,
      service_tier: 'standard',
    };
    if (plan.reasoningTokens > 0) reported.output_tokens_details = { thinking_tokens: plan.reasoningTokens };
    return reported;
  };

  const id = context.ids.next('msg_mock');
  const thinkingPieces = wordPieces(0, plan.reasoningTokens);
  const signature = plan.reasoningTokens > 0 ? context.ids.next('sig_mock', 32) : '';
  const toolUseId = plan.tool ? context.ids.next('toolu_mock') : '';
  const text = plan.pieces.join('');
  const content: Record<string, unknown>[] = [];
  if (plan.reasoningTokens > 0)
    content.push({ type: 'thinking', thinking: thinkingPieces.join(''), signature });
  if (plan.tool) {
    content.push({ type: 'tool_use', id: toolUseId, name: plan.tool.name, input: parseJsonOr(text, {}) });
  } else {
    content.push({ type: 'text', text });
  }
  const message = (blocks: unknown[], stop: string | null, output: number) => ({
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: blocks,
    stop_reason: stop,
    stop_sequence: null,
    usage: usage(output),
  });

  if (!context.stream) {
    return {
      type: 'json',
      status: 200,
      body: message(content, stopReason, outputTokens),
      usage: { ...input, outputTokens, reasoningOutputTokens: plan.reasoningTokens },
    };
  }

  const frames: Frame[] = [];
  const emit = (type: string, payload: Record<string, unknown>, output = 0, reasoning = 0) => {
    frames.push(eventFrame(type, { type, ...payload }, output, reasoning));
  };
  // message_start reports one output token already, so it carries the first token's bill.
  const firstToken = outputTokens > 0 ? 1 : 0;
  const firstIsReasoning = firstToken === 1 && plan.reasoningTokens > 0 ? 1 : 0;
  emit('message_start', { message: message([], null, firstToken) }, firstToken, firstIsReasoning);
  let owed = firstToken;
  const tokenBill = (): number => {
    if (owed > 0) {
      owed--;
      return 0;
    }
    return 1;
  };
  let index = 0;
  if (plan.reasoningTokens > 0) {
    emit('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
    emit('ping', {});
    for (const piece of thinkingPieces) {
      const bill = tokenBill();
      emit('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } }, bill, bill);
    }
    emit('content_block_delta', { index, delta: { type: 'signature_delta', signature } });
    emit('content_block_stop', { index });
    index++;
  }
  if (plan.tool) {
    emit('content_block_start', {
      index,
      content_block: { type: 'tool_use', id: toolUseId, name: plan.tool.name, input: {} },
    });
  } else {
    emit('content_block_start', { index, content_block: { type: 'text', text: '' } });
  }
  if (index === 0) emit('ping', {});
  for (const piece of plan.pieces) {
    const delta = plan.tool
      ? { type: 'input_json_delta', partial_json: piece }
      : { type: 'text_delta', text: piece };
    emit('content_block_delta', { index, delta }, tokenBill());
  }
  emit('content_block_stop', { index });
  emit('message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: usage(outputTokens),
  });
  emit('message_stop', {});
  return { type: 'events', input, frames };
}

/** Structured outputs: `output_config.format` (GA) or `output_format` (beta). */
function outputSchema(body: Record<string, unknown>): unknown {
  const format = isRecord(body.output_config) ? body.output_config.format : body.output_format;
  if (isRecord(format) && format.type === 'json_schema') return format.schema ?? {};
  return undefined;
}

/**
 * A client tool to call: only when the last message is the user's own turn (not tool results)
 * and `tool_choice` allows it (`any` or `tool` force it; `auto` follows the `toolCalls` knob).
 */
function chooseTool(
  body: Record<string, unknown>,
  policy: 'when-forced' | 'when-offered',
): ToolChoice | undefined {
  const tools = Array.isArray(body.tools)
    ? body.tools.filter(
        (tool): tool is { name: string; input_schema?: unknown } =>
          isRecord(tool) && typeof tool.name === 'string' && isRecord(tool.input_schema),
      )
    : [];
  if (tools.length === 0) return undefined;
  const messages = body.messages as unknown[];
  const last = messages[messages.length - 1];
  if (!isRecord(last) || last.role !== 'user') return undefined;
  if (
    Array.isArray(last.content) &&
    last.content.some((block) => isRecord(block) && block.type === 'tool_result')
  ) {
    return undefined;
  }
  const choice = isRecord(body.tool_choice) ? body.tool_choice : { type: 'auto' };
  if (choice.type === 'none' || (choice.type === 'auto' && policy === 'when-forced')) return undefined;
  const wanted =
    (choice.type === 'tool' ? tools.find((tool) => tool.name === choice.name) : undefined) ?? tools[0];
  return wanted ? { name: wanted.name, schema: wanted.input_schema } : undefined;
}
