import type { MockBehaviour } from '../mock-options';
import { mockOutputWord } from '../token-scheme';
import { jsonPieces, sampleFromSchema } from './json-schema-sample';

/** A tool the reply will call, with the schema its arguments are sampled from. */
export interface ToolChoice {
  name: string;
  schema: unknown;
}

/** What a reply generates: each piece is one billed output token. */
export interface OutputPlan {
  kind: 'text' | 'json' | 'tool-call';
  pieces: string[];
  /** Reasoning tokens generated before the pieces. */
  reasoningTokens: number;
  /** The output cap cut the reply short. */
  truncated: boolean;
  tool?: ToolChoice;
}

export interface PlanRequest {
  behaviour: Readonly<MockBehaviour>;
  /** The request's output cap (`max_tokens` and friends), reasoning included. */
  maxTokens: number | undefined;
  /** The model reasons on this request. */
  reasons: boolean;
  /** A further cap on reasoning alone (Anthropic's `budget_tokens`). */
  reasoningBudget?: number | undefined;
  /** Answer with JSON matching this schema (structured outputs). */
  schema?: unknown;
  /** Answer with a call to this tool. */
  tool?: ToolChoice | undefined;
}

/** Decides the reply's length and content: reasoning first, then text, JSON or tool arguments. */
export function planOutput(request: PlanRequest): OutputPlan {
  const cap = request.maxTokens ?? Number.POSITIVE_INFINITY;
  const reasoningTokens = request.reasons
    ? Math.min(request.behaviour.reasoningTokens, cap, request.reasoningBudget ?? Number.POSITIVE_INFINITY)
    : 0;
  const room = cap - reasoningTokens;

  if (request.tool || request.schema !== undefined) {
    const value = sampleFromSchema(
      request.tool ? (request.tool.schema ?? { type: 'object' }) : request.schema,
    );
    const pieces = jsonPieces(JSON.stringify(value ?? {}));
    const truncated = pieces.length > room;
    if (truncated) pieces.length = room;
    const plan: OutputPlan = {
      kind: request.tool ? 'tool-call' : 'json',
      pieces,
      reasoningTokens,
      truncated,
    };
    if (request.tool) plan.tool = request.tool;
    return plan;
  }

  const wanted = request.behaviour.outputTokens;
  const length = Math.min(wanted, room);
  return { kind: 'text', pieces: wordPieces(0, length), reasoningTokens, truncated: wanted > room };
}

/** `count` output words starting at word `from`. */
export function wordPieces(from: number, count: number): string[] {
  const pieces = new Array<string>(count);
  for (let index = 0; index < count; index++) pieces[index] = mockOutputWord(from + index);
  return pieces;
}
