import type { Frame, Reply } from './exchange';
import { planOutput } from './output-plan';
import {
  DONE_FRAME,
  dataFrame,
  integerField,
  isRecord,
  type ReplyContext,
  splitInput,
} from './reply-context';

/** The legacy API's own default for `max_tokens`. */
const LEGACY_DEFAULT_MAX_TOKENS = 16;

export function validateCompletions(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string') return "Missing required parameter: 'model'.";
  if (typeof body.prompt !== 'string' && !Array.isArray(body.prompt))
    return "Missing required parameter: 'prompt'.";
  return undefined;
}

/**
 * `POST /v1/completions` (legacy text completions): `n` choices per prompt, capped by
 * `max_tokens` (16 when absent, as the API does); JSON or `data:` chunks ending in `[DONE]`.
 */
export function completionsReply(context: ReplyContext): Reply {
  const { body, model } = context;
  const prompts = promptCount(body.prompt);
  const choices = prompts * Math.max(1, integerField(body, 'n') ?? 1);
  const plan = planOutput({
    behaviour: context.behaviour,
    maxTokens: integerField(body, 'max_tokens') ?? LEGACY_DEFAULT_MAX_TOKENS,
    reasons: false,
  });
  const input = splitInput('openai', context);
  const completionTokens = plan.pieces.length * choices;
  const usage = {
    prompt_tokens: input.inputTokens,
    completion_tokens: completionTokens,
    total_tokens: input.inputTokens + completionTokens,
  };
  const finishReason = plan.truncated ? 'length' : 'stop';
  const base = {
    id: context.ids.next('cmpl-mock'),
    object: 'text_completion',
    created: Math.floor(context.nowMs / 1000),
    model,
  };
  const text = plan.pieces.join('');

  if (!context.stream) {
    const response: Record<string, unknown> = {
      ...base,
      system_fingerprint: 'fp_mock',
      choices: Array.from({ length: choices }, (_, index) => ({
        text,
        index,
        logprobs: null,
        finish_reason: finishReason,
      })),
    };
    if (!context.malformedUsage) response.usage = usage;
    return {
      type: 'json',
      status: 200,
      body: response,
      usage: { ...input, outputTokens: completionTokens, reasoningOutputTokens: 0 },
    };
  }

  const includeUsage =
    context.behaviour.includeUsageInStream === 'always' ||
    (context.behaviour.includeUsageInStream === 'auto' &&
      isRecord(body.stream_options) &&
      body.stream_options.include_usage === true);
  const frames: Frame[] = [];
  for (let index = 0; index < choices; index++) {
    for (const piece of plan.pieces) {
      frames.push(
        dataFrame({ ...base, choices: [{ text: piece, index, logprobs: null, finish_reason: null }] }, 1),
      );
    }
    frames.push(
      dataFrame({ ...base, choices: [{ text: '', index, logprobs: null, finish_reason: finishReason }] }),
    );
  }
  if (includeUsage && !context.malformedUsage) frames.push(dataFrame({ ...base, choices: [], usage }));
  frames.push(DONE_FRAME);
  return { type: 'events', input, frames };
}

function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0) return 1;
  return prompt.every((item) => typeof item === 'number') ? 1 : prompt.length;
}
