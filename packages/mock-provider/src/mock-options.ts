/** Rate-limit windows the mock reports in headers (and optionally enforces), per provider and model. */
export interface RateLimitKnobs {
  /** Requests per minute. @default 10000 */
  limitRequests: number;
  /** Tokens per minute; a request uses its input tokens plus its maximum output. @default 30000000 */
  limitTokens: number;
  /** Answer 429 (with `retry-after`) when a request does not fit. @default false */
  enforce: boolean;
}

/** Knobs that shape every response; change them at runtime with `provider.configure()`. */
export interface MockBehaviour {
  /** Delay before the first byte of every response. @default 0 */
  latencyMillis: number;
  /**
   * Delay between server-sent events. At 0 a whole stream is written in one go, so a client
   * that stops reading early is only noticed when this is above 0.
   * @default 0
   */
  chunkDelayMillis: number;
  /**
   * Visible output length in tokens, capped by the request's `max_tokens` /
   * `max_completion_tokens` / `max_output_tokens`, Gemini's `generationConfig.maxOutputTokens`
   * (per candidate), Converse's `inferenceConfig.maxTokens`, Nova's `max_new_tokens` or Llama's
   * `max_gen_len`.
   * @default 16
   */
  outputTokens: number;
  /**
   * Reasoning tokens for reasoning models (OpenAI models named `o<digit>…` or `gpt-5…`, hidden
   * and billed as output; Anthropic requests with `thinking` enabled, sent as a thinking block;
   * Gemini 2.5+ models or a `thinkingConfig` unless `thinkingBudget` is 0, reported as
   * `thoughtsTokenCount` and shown with `includeThoughts`; Converse with `thinking` or
   * `reasoning_config` enabled in `additionalModelRequestFields`, sent as `reasoningContent`).
   * They count against the request's output cap before visible text does.
   * @default 0
   */
  reasoningTokens: number;
  /** Prompt tokens reported (and billed) as cache reads, clamped to the prompt size. @default 0 */
  cacheReadInputTokens: number;
  /** Prompt tokens reported as cache writes (Anthropic and Bedrock; OpenAI and Gemini report none). @default 0 */
  cacheWriteInputTokens: number;
  /**
   * When streams carry usage. `auto` follows each API: OpenAI chat and legacy completions only
   * with `stream_options.include_usage: true`, Responses in `response.completed`, Anthropic
   * always, Gemini on every chunk (prompt-only until the last), Bedrock in the final `metadata`
   * event. `never` sends Anthropic usage objects without counts and leaves the others' out.
   * @default 'auto'
   */
  includeUsageInStream: 'auto' | 'always' | 'never';
  /**
   * When to answer with a tool call, if the request offers tools and the last message is the
   * user's: `when-forced` only if `tool_choice` requires one, `when-offered` whenever allowed.
   * @default 'when-forced'
   */
  toolCalls: 'when-forced' | 'when-offered';
  /** Rate-limit headers on every response, or `false` for none. @default { limitRequests: 10000, limitTokens: 30000000, enforce: false } */
  rateLimit: RateLimitKnobs | false;
}

/** Options for `startMockProvider()`: where to listen, plus the initial behaviour. */
export interface MockProviderOptions extends Partial<Omit<MockBehaviour, 'rateLimit'>> {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Loopback address to bind; anything else is refused. @default '127.0.0.1' */
  host?: string;
  /** Rate-limit windows, or `false` for no rate-limit headers. */
  rateLimit?: Partial<RateLimitKnobs> | false;
  /**
   * Keep every request for `requests()`. Turn off in long benchmarks; `billed()` still counts.
   * @default true
   */
  recordRequests?: boolean;
}

const DEFAULT_RATE_LIMIT: Readonly<RateLimitKnobs> = Object.freeze({
  limitRequests: 10_000,
  limitTokens: 30_000_000,
  enforce: false,
});

/** The defaults, written out once. */
export const DEFAULT_BEHAVIOUR: Readonly<MockBehaviour> = Object.freeze({
  latencyMillis: 0,
  chunkDelayMillis: 0,
  outputTokens: 16,
  reasoningTokens: 0,
  cacheReadInputTokens: 0,
  cacheWriteInputTokens: 0,
  includeUsageInStream: 'auto',
  toolCalls: 'when-forced',
  rateLimit: DEFAULT_RATE_LIMIT,
});

type BehaviourPatch = Partial<Omit<MockBehaviour, 'rateLimit'>> & {
  rateLimit?: Partial<RateLimitKnobs> | false;
};

/**
 * Applies `patch` over `base`, validating every field it touches.
 * @throws RangeError or TypeError naming the offending field.
 */
export function mergeBehaviour(base: Readonly<MockBehaviour>, patch: BehaviourPatch): MockBehaviour {
  const next: MockBehaviour = { ...base };
  if (patch.latencyMillis !== undefined)
    next.latencyMillis = nonNegative('latencyMillis', patch.latencyMillis);
  if (patch.chunkDelayMillis !== undefined) {
    next.chunkDelayMillis = nonNegative('chunkDelayMillis', patch.chunkDelayMillis);
  }
  if (patch.outputTokens !== undefined) next.outputTokens = count('outputTokens', patch.outputTokens);
  if (patch.reasoningTokens !== undefined)
    next.reasoningTokens = count('reasoningTokens', patch.reasoningTokens);
  if (patch.cacheReadInputTokens !== undefined) {
    next.cacheReadInputTokens = count('cacheReadInputTokens', patch.cacheReadInputTokens);
  }
  if (patch.cacheWriteInputTokens !== undefined) {
    next.cacheWriteInputTokens = count('cacheWriteInputTokens', patch.cacheWriteInputTokens);
  }
  if (patch.includeUsageInStream !== undefined) {
    next.includeUsageInStream = oneOf('includeUsageInStream', patch.includeUsageInStream, [
      'auto',
      'always',
      'never',
    ] as const);
  }
  if (patch.toolCalls !== undefined) {
    next.toolCalls = oneOf('toolCalls', patch.toolCalls, ['when-forced', 'when-offered'] as const);
  }
  if (patch.rateLimit !== undefined) {
    if (patch.rateLimit === false) {
      next.rateLimit = false;
    } else {
      const current = base.rateLimit === false ? DEFAULT_RATE_LIMIT : base.rateLimit;
      const wanted = patch.rateLimit as Partial<RateLimitKnobs>;
      next.rateLimit = {
        limitRequests: positive('rateLimit.limitRequests', wanted.limitRequests ?? current.limitRequests),
        limitTokens: positive('rateLimit.limitTokens', wanted.limitTokens ?? current.limitTokens),
        enforce: Boolean(wanted.enforce ?? current.enforce),
      };
    }
  }
  return next;
}

function nonNegative(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`mock-provider: ${field} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function count(field: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(`mock-provider: ${field} must be a whole number >= 0, got ${String(value)}`);
  }
  return value as number;
}

function positive(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`mock-provider: ${field} must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(`mock-provider: ${field} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}
