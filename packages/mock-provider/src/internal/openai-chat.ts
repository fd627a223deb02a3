import type { Frame, Reply } from './exchange';
import { type OutputPlan, planOutput, type ToolChoice } from './output-plan';
import {
  DONE_FRAME,
  dataFrame,
  integerField,
  isOpenAIReasoningModel,
  isRecord,
  type ReplyContext,
  splitInput,
} from './reply-context';

/** Checks the fields the mock relies on; returns an error message when one is missing. */
export function validateChat(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string') return "Missing required parameter: 'model'.";
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return "Missing required parameter: 'messages'.";
  }
  return undefined;
}

/** `POST /v1/chat/completions`: a `chat.completion`, or `chat.completion.chunk` events. */
export function chatCompletionReply(context: ReplyContext): Reply {
  const { body, model } = context;
  const choices = Math.max(1, integerField(body, 'n') ?? 1);
  const tool = chooseTool(body, context.behaviour.toolCalls);
  const plan = planOutput({
    behaviour: context.behaviour,
    maxTokens: integerField(body, 'max_completion_tokens') ?? integerField(body, 'max_tokens'),
    reasons: isOpenAIReasoningModel(model),
    schema: responseSchema(body.response_format),
    tool,
  });
  const input = splitInput('openai', context);
  const perChoice = plan.pieces.length + plan.reasoningTokens;
  const usage = {
    prompt_tokens: input.inputTokens,
    completion_tokens: perChoice * choices,
    total_tokens: input.inputTokens + perChoice * choices,
    prompt_tokens_details: { cached_tokens: input.cacheReadInputTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: plan.reasoningTokens * choices,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const finishReason = plan.truncated ? 'length' : plan.tool ? 'tool_calls' : 'stop';
  const id = context.ids.next('chatcmpl-mock');
  const created = Math.floor(context.nowMs / 1000);
  const callIds = Array.from({ length: choices }, () => (plan.tool ? context.ids.next('call_') : ''));

  if (!context.stream) {
    const completion: Record<string, unknown> = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: callIds.map((callId, index) => ({
        index,
        message: message(plan, callId),
        logprobs: null,
        finish_reason: finishReason,
      })),
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    };
    if (!context.malformedUsage) completion.usage = usage;
    return {
      type: 'json',
      status: 200,
      body: completion,
      usage: {
        ...input,
        outputTokens: perChoice * choices,
        reasoningOutputTokens: plan.reasoningTokens * choices,
      },
    };
  }

  const includeUsage =
    context.behaviour.includeUsageInStream === 'always' ||
    (context.behaviour.includeUsageInStream === 'auto' &&
      isRecord(body.stream_options) &&
      body.stream_options.include_usage === true);
  const base: Record<string, unknown> = {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  };
  if (includeUsage) base.usage = null;
  // Every chunk shares the envelope, so it is serialised once and only the choice per chunk.
  const envelope = `data: ${JSON.stringify(base).slice(0, -1)},"choices":[`;
  const chunk = (choice: Record<string, unknown>, outputTokens = 0, reasoningTokens = 0): Frame => ({
    data: `${envelope}${JSON.stringify(choice)}]}\n\n`,
    outputTokens,
    reasoningTokens,
  });

  const frames: Frame[] = [];
  callIds.forEach((callId, index) => {
    const opening = plan.tool
      ? { role: 'assistant', content: null }
      : { role: 'assistant', content: '', refusal: null };
    // Hidden reasoning happens before the first chunk, so it is billed with it.
    frames.push(
      chunk(
        { index, delta: opening, logprobs: null, finish_reason: null },
        plan.reasoningTokens,
        plan.reasoningTokens,
      ),
    );
    if (plan.tool) {
      const call = {
        index: 0,
        id: callId,
        type: 'function',
        function: { name: plan.tool.name, arguments: '' },
      };
      frames.push(chunk({ index, delta: { tool_calls: [call] }, logprobs: null, finish_reason: null }));
      for (const piece of plan.pieces) {
        const delta = { tool_calls: [{ index: 0, function: { arguments: piece } }] };
        frames.push(chunk({ index, delta, logprobs: null, finish_reason: null }, 1));
      }
    } else {
      for (const piece of plan.pieces) {
        frames.push(chunk({ index, delta: { content: piece }, logprobs: null, finish_reason: null }, 1));
      }
    }
    frames.push(chunk({ index, delta: {}, logprobs: null, finish_reason: finishReason }));
  });
  if (includeUsage && !context.malformedUsage) frames.push(dataFrame({ ...base, choices: [], usage }));
  frames.push(DONE_FRAME);
  return { type: 'events', input, frames };
}

function message(plan: OutputPlan, callId: string): Record<string, unknown> {
  const text = plan.pieces.join('');
  if (plan.tool) {
    return {
      role: 'assistant',
      content: null,
      refusal: null,
      annotations: [],
      tool_calls: [{ id: callId, type: 'function', function: { name: plan.tool.name, arguments: text } }],
    };
  }
  return { role: 'assistant', content: text, refusal: null, annotations: [] };
}

/** The schema of a `json_schema` response format; `json_object` asks for any object. */
function responseSchema(format: unknown): unknown {
  if (!isRecord(format)) return undefined;
  if (format.type === 'json_schema' && isRecord(format.json_schema)) return format.json_schema.schema ?? {};
  if (format.type === 'json_object') return { type: 'object' };
  return undefined;
}

/**
 * The function tool to call, if any: only when the last message is the user's (after a tool
 * result the mock answers in text, which ends `runTools()` loops) and `tool_choice` allows it.
 */
function chooseTool(
  body: Record<string, unknown>,
  policy: 'when-forced' | 'when-offered',
): ToolChoice | undefined {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isFunctionTool) : [];
  if (tools.length === 0) return undefined;
  const messages = body.messages as unknown[];
  const last = messages[messages.length - 1];
  if (!isRecord(last) || last.role !== 'user') return undefined;
  const choice = body.tool_choice;
  let wanted = tools[0];
  if (isRecord(choice)) {
    const name = isRecord(choice.function) ? choice.function.name : undefined;
    wanted = tools.find((tool) => tool.function.name === name) ?? wanted;
  } else if (choice === 'none' || ((choice === undefined || choice === 'auto') && policy === 'when-forced')) {
    return undefined;
  }
  return wanted ? { name: String(wanted.function.name), schema: wanted.function.parameters } : undefined;
}

function isFunctionTool(tool: unknown): tool is { function: { name: unknown; parameters?: unknown } } {
  return (
    isRecord(tool) &&
    tool.type === 'function' &&
    isRecord(tool.function) &&
    typeof tool.function.name === 'string'
  );
}
