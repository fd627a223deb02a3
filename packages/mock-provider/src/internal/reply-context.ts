import type { MockBehaviour } from '../mock-options';
import type { MockProviderName } from '../served-request';
import type { Frame, InputUsage } from './exchange';
import type { IdSequence } from './id-sequence';

/** Everything an endpoint needs to build its reply, decided before the reply is built. */
export interface ReplyContext {
  body: Record<string, unknown>;
  provider: MockProviderName;
  /** The URL's method or operation where it matters (`predict`, `invoke`, ...). */
  operation: string | undefined;
  /** The served request's id, for providers that echo it in the body. */
  requestId: string;
  model: string;
  stream: boolean;
  /** Input tokens by the mock's counting scheme, cached ones included. */
  inputTokens: number;
  behaviour: Readonly<MockBehaviour>;
  ids: IdSequence;
  /** An injected `malformed-usage` fault applies: report no token counts. */
  malformedUsage: boolean;
  nowMs: number;
}

/** Carves cache reads (and, for Anthropic and Bedrock, cache writes) out of the prompt, clamped to its size. */
export function splitInput(provider: MockProviderName, context: ReplyContext): InputUsage {
  const total = context.inputTokens;
  const cacheRead = Math.min(context.behaviour.cacheReadInputTokens, total);
  const writes = provider === 'anthropic' || provider === 'aws.bedrock';
  const cacheWrite = writes ? Math.min(context.behaviour.cacheWriteInputTokens, total - cacheRead) : 0;
  return { inputTokens: total, cacheReadInputTokens: cacheRead, cacheWriteInputTokens: cacheWrite };
}

/** OpenAI reasoning models by name: `o1`, `o3-mini`, `o4-mini`, `gpt-5`, `gpt-5-nano`, ... */
export function isOpenAIReasoningModel(model: string): boolean {
  return /^o\d/.test(model) || model.startsWith('gpt-5');
}

/** A whole number field of the body, or `undefined`. */
export function integerField(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** `text` parsed as JSON, or `fallback` when it is not (a reply cut short by its output cap). */
export function parseJsonOr(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `data: {json}` as OpenAI chat and completions streams send it. */
export function dataFrame(payload: unknown, outputTokens = 0, reasoningTokens = 0): Frame {
  return { data: `data: ${JSON.stringify(payload)}\n\n`, outputTokens, reasoningTokens, payload };
}

/** `event: type` + `data: {json}`, as the Responses API and Anthropic send it. */
export function eventFrame(type: string, payload: unknown, outputTokens = 0, reasoningTokens = 0): Frame {
  return {
    data: `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`,
    outputTokens,
    reasoningTokens,
    payload,
  };
}

export const DONE_FRAME: Frame = { data: 'data: [DONE]\n\n', outputTokens: 0, reasoningTokens: 0 };
