import { awsEventFrame, EVENT_STREAM_CONTENT_TYPE } from './aws-event-stream';
import type { Frame, InputUsage, Reply } from './exchange';
import { planOutput, type ToolChoice, wordPieces } from './output-plan';
import { integerField, isRecord, parseJsonOr, type ReplyContext, splitInput } from './reply-context';

export function validateConverse(body: Record<string, unknown>): string | undefined {
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  }
  const inference = isRecord(body.inferenceConfig) ? body.inferenceConfig : {};
  if (inference.maxTokens !== undefined && !(integerField(inference, 'maxTokens')! >= 1)) {
    return "1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1";
  }
  return undefined;
}

/**
 * `/model/{id}/converse` and `/converse-stream`. JSON: `output.message`, `stopReason` and
 * `usage` (`inputTokens` without cache reads/writes, which come as `cacheReadInputTokens` /
 * `cacheWriteInputTokens` when there are some). Stream: AWS event-stream messages `messageStart`,
 * `contentBlockStart` (tool use only), `contentBlockDelta` (one token each), `contentBlockStop`,
 * `messageStop`, then `metadata`, the only one with usage. Reasoning (`additionalModelRequestFields`
 * `thinking` or `reasoning_config` enabled) comes first as a `reasoningContent` block.
 */
export function converseReply(context: ReplyContext): Reply {
  const { body } = context;
  const inference = isRecord(body.inferenceConfig) ? body.inferenceConfig : {};
  const extra = isRecord(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {};
  const thinking = isRecord(extra.thinking)
    ? extra.thinking
    : isRecord(extra.reasoning_config)
      ? extra.reasoning_config
      : undefined;
  const plan = planOutput({
    behaviour: context.behaviour,
    maxTokens: integerField(inference, 'maxTokens'),
    reasons: thinking?.type === 'enabled',
    reasoningBudget: thinking ? integerField(thinking, 'budget_tokens') : undefined,
    tool: chooseTool(body, context.behaviour.toolCalls),
  });
  const input = splitInput('aws.bedrock', context);
  const outputTokens = plan.reasoningTokens + plan.pieces.length;
  const stopReason = plan.truncated ? 'max_tokens' : plan.tool ? 'tool_use' : 'end_turn';
  const toolUseId = plan.tool ? context.ids.next('tooluse_mock', 22) : '';
  const signature = plan.reasoningTokens > 0 ? context.ids.next('sig_mock', 32) : '';
  const thoughts = wordPieces(0, plan.reasoningTokens);
  const text = plan.pieces.join('');
  const metrics = { latencyMs: 1 };

  if (!context.stream) {
    const content: Record<string, unknown>[] = [];
    if (plan.reasoningTokens > 0) {
      content.push({ reasoningContent: { reasoningText: { text: thoughts.join(''), signature } } });
    }
    content.push(
      plan.tool ? { toolUse: { toolUseId, name: plan.tool.name, input: parseJsonOr(text, {}) } } : { text },
    );
    const response: Record<string, unknown> = {
      output: { message: { role: 'assistant', content } },
      stopReason,
      metrics,
    };
    if (!context.malformedUsage) response.usage = converseUsage(input, outputTokens);
    return {
      type: 'json',
      status: 200,
      body: response,
      usage: { ...input, outputTokens, reasoningOutputTokens: plan.reasoningTokens },
    };
  }

  const frames: Frame[] = [];
  const emit = (type: string, payload: Record<string, unknown>, output = 0, reasoning = 0) =>
    frames.push(awsEventFrame(type, payload, output, reasoning));
  emit('messageStart', { role: 'assistant' });
  let index = 0;
  if (plan.reasoningTokens > 0) {
    for (const piece of thoughts) {
      emit(
        'contentBlockDelta',
        { contentBlockIndex: index, delta: { reasoningContent: { text: piece } } },
        1,
        1,
      );
    }
    emit('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { signature } } });
    emit('contentBlockStop', { contentBlockIndex: index });
    index++;
  }
  if (plan.tool) {
    emit('contentBlockStart', {
      contentBlockIndex: index,
      start: { toolUse: { toolUseId, name: plan.tool.name } },
    });
  }
  for (const piece of plan.pieces) {
    const delta = plan.tool ? { toolUse: { input: piece } } : { text: piece };
    emit('contentBlockDelta', { contentBlockIndex: index, delta }, 1);
  }
  emit('contentBlockStop', { contentBlockIndex: index });
  emit('messageStop', { stopReason });
  const metadata: Record<string, unknown> = { metrics };
  if (!context.malformedUsage && context.behaviour.includeUsageInStream !== 'never') {
    metadata.usage = converseUsage(input, outputTokens);
  }
  emit('metadata', metadata);
  return { type: 'events', input, frames, contentType: EVENT_STREAM_CONTENT_TYPE };
}

function converseUsage(input: InputUsage, outputTokens: number): Record<string, unknown> {
  const usage: Record<string, unknown> = {
    inputTokens: input.inputTokens - input.cacheReadInputTokens - input.cacheWriteInputTokens,
    outputTokens,
    totalTokens: input.inputTokens + outputTokens,
  };
  if (input.cacheReadInputTokens > 0) usage.cacheReadInputTokens = input.cacheReadInputTokens;
  if (input.cacheWriteInputTokens > 0) usage.cacheWriteInputTokens = input.cacheWriteInputTokens;
  return usage;
}

/**
 * A tool to use: only when the last message is the user's and carries no `toolResult`, and
 * `toolChoice` allows it (`any` / `tool` force it; `auto` or none follows the `toolCalls` knob).
 */
function chooseTool(
  body: Record<string, unknown>,
  policy: 'when-forced' | 'when-offered',
): ToolChoice | undefined {
  const config = isRecord(body.toolConfig) ? body.toolConfig : {};
  const specs = (Array.isArray(config.tools) ? config.tools : [])
    .map((tool) => (isRecord(tool) && isRecord(tool.toolSpec) ? tool.toolSpec : undefined))
    .filter((spec): spec is Record<string, unknown> => spec !== undefined && typeof spec.name === 'string');
  if (specs.length === 0) return undefined;
  const messages = body.messages as unknown[];
  const last = messages[messages.length - 1];
  if (!isRecord(last) || last.role !== 'user') return undefined;
  if (Array.isArray(last.content) && last.content.some((block) => isRecord(block) && block.toolResult)) {
    return undefined;
  }
  const choice = isRecord(config.toolChoice) ? config.toolChoice : { auto: {} };
  const forced = choice.any !== undefined || choice.tool !== undefined;
  if (!forced && policy === 'when-forced') return undefined;
  const named = isRecord(choice.tool) ? choice.tool.name : undefined;
  const wanted = specs.find((spec) => spec.name === named) ?? specs[0];
  if (!wanted) return undefined;
  const schema = isRecord(wanted.inputSchema) ? wanted.inputSchema.json : undefined;
  return { name: wanted.name as string, schema: schema ?? { type: 'object' } };
}
