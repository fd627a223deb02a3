import type { Frame, InputUsage, Reply } from './exchange';
import { chooseFunction, responseSchema } from './gemini-request';
import { planOutput, wordPieces } from './output-plan';
import { integerField, isRecord, parseJsonOr, type ReplyContext, splitInput } from './reply-context';

/** Models that think unless `thinkingBudget: 0` turns it off (2.5 Flash-Lite only when asked). */
function thinksByDefault(model: string): boolean {
  return /(^|\/)gemini-(2\.5|[3-9])/.test(model) && !model.includes('2.5-flash-lite');
}

/**
 * `:generateContent` and `:streamGenerateContent?alt=sse` (Gemini API and Vertex AI): candidates
 * (`candidateCount` of them, each capped by `maxOutputTokens`, thoughts included) and
 * `usageMetadata`. A stream sends one word per candidate per chunk; every chunk but the last
 * reports prompt-only usage, the last the full usage with `finishReason`.
 */
export function generateContentReply(context: ReplyContext): Reply {
  const { body, model } = context;
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  const thinking = isRecord(config.thinkingConfig) ? config.thinkingConfig : undefined;
  const budget =
    thinking && typeof thinking.thinkingBudget === 'number' ? thinking.thinkingBudget : undefined;
  const plan = planOutput({
    behaviour: context.behaviour,
    maxTokens: integerField(config, 'maxOutputTokens'),
    reasons: budget !== 0 && (thinking !== undefined || thinksByDefault(model)),
    reasoningBudget: budget !== undefined && budget > 0 ? budget : undefined,
    schema: responseSchema(config),
    tool: chooseFunction(body, context.behaviour.toolCalls),
  });
  const candidates = integerField(config, 'candidateCount') || 1;
  const showThoughts = thinking?.includeThoughts === true;
  const input = splitInput(context.provider, context);
  const visible = plan.pieces.length * candidates;
  const thoughts = plan.reasoningTokens * candidates;
  const finishReason = plan.truncated ? 'MAX_TOKENS' : 'STOP';
  const thoughtText = wordPieces(0, plan.reasoningTokens);
  const functionCall = plan.tool
    ? { name: plan.tool.name, args: parseJsonOr(plan.pieces.join(''), {}) }
    : undefined;
  const base = { modelVersion: model, responseId: context.requestId };

  if (!context.stream) {
    const parts: Record<string, unknown>[] = [];
    if (showThoughts && thoughtText.length > 0) parts.push({ text: thoughtText.join(''), thought: true });
    parts.push(functionCall ? { functionCall } : { text: plan.pieces.join('') });
    const response: Record<string, unknown> = {
      candidates: Array.from({ length: candidates }, (_, index) => ({
        content: { parts, role: 'model' },
        finishReason,
        index,
      })),
    };
    if (!context.malformedUsage) response.usageMetadata = fullUsage(input, visible, thoughts);
    return {
      type: 'json',
      status: 200,
      body: { ...response, ...base },
      usage: { ...input, outputTokens: visible + thoughts, reasoningOutputTokens: thoughts },
    };
  }

  const reportUsage = !context.malformedUsage && context.behaviour.includeUsageInStream !== 'never';
  const frames: Frame[] = [];
  const chunk = (parts: Record<string, unknown>[], outputTokens: number, reasoningTokens: number) => {
    const payload: Record<string, unknown> = {
      candidates: Array.from({ length: candidates }, (_, index) => ({
        content: { parts, role: 'model' },
        index,
      })),
    };
    if (reportUsage) payload.usageMetadata = promptUsage(input);
    Object.assign(payload, base);
    frames.push({ data: '', outputTokens, reasoningTokens, payload });
  };
  // Hidden thoughts are generated before the first chunk, so the first chunk carries their bill.
  let owedThoughts = showThoughts ? 0 : thoughts;
  const hiddenBill = () => {
    const owed = owedThoughts;
    owedThoughts = 0;
    return owed;
  };
  if (showThoughts) {
    for (const piece of thoughtText) chunk([{ text: piece, thought: true }], candidates, candidates);
  }
  if (functionCall) {
    const hidden = hiddenBill();
    chunk([{ functionCall }], visible + hidden, hidden);
  } else {
    for (const piece of plan.pieces) {
      const hidden = hiddenBill();
      chunk([{ text: piece }], candidates + hidden, hidden);
    }
  }
  if (frames.length === 0 || owedThoughts > 0) {
    const hidden = hiddenBill();
    chunk([{ text: '' }], hidden, hidden);
  }
  const last = frames[frames.length - 1] as Frame & { payload: Record<string, unknown> };
  for (const candidate of last.payload.candidates as Record<string, unknown>[])
    candidate.finishReason = finishReason;
  if (reportUsage) last.payload.usageMetadata = fullUsage(input, visible, thoughts);
  for (const frame of frames) frame.data = `data: ${JSON.stringify(frame.payload)}\r\n\r\n`;
  return { type: 'events', input, frames };
}

function promptUsage(input: InputUsage): Record<string, unknown> {
  return {
    promptTokenCount: input.inputTokens,
    totalTokenCount: input.inputTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: input.inputTokens }],
  };
}

/** The API leaves zero counts out, as proto3 JSON does: thoughts and cache only when there are some. */
function fullUsage(input: InputUsage, candidates: number, thoughts: number): Record<string, unknown> {
  const usage: Record<string, unknown> = {
    promptTokenCount: input.inputTokens,
    candidatesTokenCount: candidates,
    totalTokenCount: input.inputTokens + candidates + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: input.inputTokens }],
  };
  if (thoughts > 0) usage.thoughtsTokenCount = thoughts;
  if (input.cacheReadInputTokens > 0) {
    usage.cachedContentTokenCount = input.cacheReadInputTokens;
    usage.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: input.cacheReadInputTokens }];
  }
  return usage;
}
