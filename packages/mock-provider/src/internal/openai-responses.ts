import type { Frame, Reply } from './exchange';
import { planOutput, type ToolChoice } from './output-plan';
import {
  eventFrame,
  integerField,
  isOpenAIReasoningModel,
  isRecord,
  type ReplyContext,
  splitInput,
} from './reply-context';

export function validateResponses(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string') return "Missing required parameter: 'model'.";
  if (typeof body.input !== 'string' && !Array.isArray(body.input))
    return "Missing required parameter: 'input'.";
  return undefined;
}

/**
 * `POST /v1/responses`: a `response` object, or its event stream from `response.created` to
 * `response.completed` (`response.incomplete` when `max_output_tokens` cut it short).
 */
export function responsesReply(context: ReplyContext): Reply {
  const { body, model } = context;
  const plan = planOutput({
    behaviour: context.behaviour,
    maxTokens: integerField(body, 'max_output_tokens'),
    reasons: isOpenAIReasoningModel(model),
    schema: textSchema(body.text),
    tool: chooseTool(body, context.behaviour.toolCalls),
  });
  const input = splitInput('openai', context);
  const outputTokens = plan.pieces.length + plan.reasoningTokens;
  const usage = {
    input_tokens: input.inputTokens,
    input_tokens_details: { cached_tokens: input.cacheReadInputTokens },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: plan.reasoningTokens },
    total_tokens: input.inputTokens + outputTokens,
  };
  const createdAt = Math.floor(context.nowMs / 1000);
  const responseId = context.ids.next('resp_mock');
  const reasoningItem =
    plan.reasoningTokens > 0
      ? { id: context.ids.next('rs_mock'), type: 'reasoning', summary: [] }
      : undefined;
  const itemId = context.ids.next(plan.tool ? 'fc_mock' : 'msg_mock');
  const callId = plan.tool ? context.ids.next('call_') : '';
  const text = plan.pieces.join('');
  const itemStatus = plan.truncated ? 'incomplete' : 'completed';
  const textPart = { type: 'output_text', annotations: [], logprobs: [], text };
  const finalItem = plan.tool
    ? {
        id: itemId,
        type: 'function_call',
        status: itemStatus,
        arguments: text,
        call_id: callId,
        name: plan.tool.name,
      }
    : { id: itemId, type: 'message', status: itemStatus, role: 'assistant', content: [textPart] };

  const response = (status: string, output: unknown[], withUsage: boolean): Record<string, unknown> => {
    const object: Record<string, unknown> = {
      id: responseId,
      object: 'response',
      created_at: createdAt,
      status,
      background: false,
      error: null,
      incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      max_tool_calls: null,
      model,
      output,
      parallel_tool_calls: body.parallel_tool_calls ?? true,
      previous_response_id: body.previous_response_id ?? null,
      reasoning: { effort: isRecord(body.reasoning) ? (body.reasoning.effort ?? null) : null, summary: null },
      service_tier: 'default',
      store: body.store ?? true,
      temperature: body.temperature ?? 1,
      text: body.text ?? { format: { type: 'text' } },
      tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [],
      top_p: body.top_p ?? 1,
      truncation: 'disabled',
      user: null,
      metadata: body.metadata ?? {},
    };
    if (withUsage) object.usage = usage;
    return object;
  };
  const finalStatus = plan.truncated ? 'incomplete' : 'completed';
  const finalOutput = reasoningItem ? [reasoningItem, finalItem] : [finalItem];

  if (!context.stream) {
    return {
      type: 'json',
      status: 200,
      body: response(finalStatus, finalOutput, !context.malformedUsage),
      usage: { ...input, outputTokens, reasoningOutputTokens: plan.reasoningTokens },
    };
  }

  let sequence = 0;
  const frames: Frame[] = [];
  const emit = (type: string, payload: Record<string, unknown>, outputTokens = 0, reasoningTokens = 0) => {
    frames.push(
      eventFrame(type, { type, sequence_number: sequence++, ...payload }, outputTokens, reasoningTokens),
    );
  };
  emit('response.created', { response: response('in_progress', [], false) });
  emit('response.in_progress', { response: response('in_progress', [], false) });
  let outputIndex = 0;
  if (reasoningItem) {
    // Hidden reasoning is billed when its (empty) item appears.
    emit(
      'response.output_item.added',
      { output_index: outputIndex, item: reasoningItem },
      plan.reasoningTokens,
      plan.reasoningTokens,
    );
    emit('response.output_item.done', { output_index: outputIndex, item: reasoningItem });
    outputIndex++;
  }
  const at = { item_id: itemId, output_index: outputIndex };
  if (plan.tool) {
    const opening = { ...finalItem, status: 'in_progress', arguments: '' };
    emit('response.output_item.added', { output_index: outputIndex, item: opening });
    for (const piece of plan.pieces)
      emit('response.function_call_arguments.delta', { ...at, delta: piece }, 1);
    emit('response.function_call_arguments.done', { ...at, name: plan.tool.name, arguments: text });
  } else {
    const opening = { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    emit('response.output_item.added', { output_index: outputIndex, item: opening });
    const part = { ...at, content_index: 0 };
    emit('response.content_part.added', { ...part, part: { ...textPart, text: '' } });
    for (const piece of plan.pieces)
      emit('response.output_text.delta', { ...part, delta: piece, logprobs: [] }, 1);
    emit('response.output_text.done', { ...part, text, logprobs: [] });
    emit('response.content_part.done', { ...part, part: textPart });
  }
  emit('response.output_item.done', { output_index: outputIndex, item: finalItem });
  const withUsage = !context.malformedUsage && context.behaviour.includeUsageInStream !== 'never';
  emit(plan.truncated ? 'response.incomplete' : 'response.completed', {
    response: response(finalStatus, finalOutput, withUsage),
  });
  return { type: 'events', input, frames };
}

function textSchema(text: unknown): unknown {
  if (!isRecord(text) || !isRecord(text.format)) return undefined;
  if (text.format.type === 'json_schema') return text.format.schema ?? {};
  if (text.format.type === 'json_object') return { type: 'object' };
  return undefined;
}

/** A function tool to call when the last input is the user's and `tool_choice` allows it. */
function chooseTool(
  body: Record<string, unknown>,
  policy: 'when-forced' | 'when-offered',
): ToolChoice | undefined {
  const tools = Array.isArray(body.tools)
    ? body.tools.filter(
        (tool): tool is { name: string; parameters?: unknown } =>
          isRecord(tool) && tool.type === 'function' && typeof tool.name === 'string',
      )
    : [];
  if (tools.length === 0) return undefined;
  if (Array.isArray(body.input)) {
    const last = body.input[body.input.length - 1];
    if (!isRecord(last) || last.role !== 'user') return undefined;
  }
  const choice = body.tool_choice;
  let wanted = tools[0];
  if (isRecord(choice)) {
    wanted = tools.find((tool) => tool.name === choice.name) ?? wanted;
  } else if (choice === 'none' || ((choice === undefined || choice === 'auto') && policy === 'when-forced')) {
    return undefined;
  }
  return wanted ? { name: wanted.name, schema: wanted.parameters } : undefined;
}
