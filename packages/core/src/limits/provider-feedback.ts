/**
 * What a provider said about its own limits in a response, normalised. Apply it with
 * `guard.applyProviderFeedback()` so the local limiter backs off before the provider refuses.
 */
export interface ProviderFeedback {
  provider: string;
  model: string;
  tenant?: string;
  /** Requests the provider will still accept in its current window. */
  remainingRequests?: number;
  /** Tokens the provider will still accept in its current window. */
  remainingTokens?: number;
  /** Milliseconds until the provider's request window refills. */
  requestsResetMillis?: number;
  /** Milliseconds until the provider's token window refills. */
  tokensResetMillis?: number;
  /** From a 429's `retry-after` / `retry-after-ms`: pause this model for that long. */
  retryAfterMillis?: number;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/**
 * Reads OpenAI and Azure OpenAI (`x-ratelimit-*`), Anthropic (`anthropic-ratelimit-*`) and
 * `retry-after` headers into a `ProviderFeedback`. Malformed values are ignored, never thrown.
 */
export function parseRateLimitHeaders(
  headers: HeaderSource,
  call: { provider: string; model: string; tenant?: string },
  nowMs: number = Date.now(),
): ProviderFeedback {
  const read = headerReader(headers);
  const feedback: ProviderFeedback = { provider: call.provider, model: call.model };
  if (call.tenant !== undefined) feedback.tenant = call.tenant;

  const remainingRequests =
    nonNegative(read('x-ratelimit-remaining-requests')) ??
    nonNegative(read('anthropic-ratelimit-requests-remaining'));
  const remainingTokens =
    nonNegative(read('x-ratelimit-remaining-tokens')) ??
    nonNegative(read('anthropic-ratelimit-tokens-remaining'));
  const requestsReset =
    resetDelay(read('x-ratelimit-reset-requests')) ??
    untilTimestamp(read('anthropic-ratelimit-requests-reset'), nowMs);
  const tokensReset =
    resetDelay(read('x-ratelimit-reset-tokens')) ??
    untilTimestamp(read('anthropic-ratelimit-tokens-reset'), nowMs);
  const retryAfter = nonNegative(read('retry-after-ms')) ?? parseRetryAfter(read('retry-after'), nowMs);

  if (remainingRequests !== undefined) feedback.remainingRequests = remainingRequests;
  if (remainingTokens !== undefined) feedback.remainingTokens = remainingTokens;
  if (requestsReset !== undefined) feedback.requestsResetMillis = requestsReset;
  if (tokensReset !== undefined) feedback.tokensResetMillis = tokensReset;
  if (retryAfter !== undefined) feedback.retryAfterMillis = retryAfter;
  return feedback;
}

function headerReader(headers: HeaderSource): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (name) => (headers as Headers).get(name) ?? undefined;
  }
  const lowered = new Map<string, string>();
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) lowered.set(key.toLowerCase(), Array.isArray(value) ? (value[0] ?? '') : value);
  }
  return (name) => lowered.get(name);
}

function nonNegative(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;

/** OpenAI reset values look like `6m0s`, `1.5s`, `12ms` or `1h2m3s`. */
export function parseDuration(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    const amount = Number(match[1]);
    const unit = match[2];
    total +=
      unit === 'h'
        ? amount * 3_600_000
        : unit === 'm'
          ? amount * 60_000
          : unit === 's'
            ? amount * 1000
            : amount;
    consumed += match[0].length;
  }
  return consumed === text.length && consumed > 0 ? Math.ceil(total) : undefined;
}

/** A reset of one unit (`12ms`, `1.5s`): what most replies carry, read without iterating matches. */
const ONE_UNIT_DURATION = /^(\d+(?:\.\d+)?)(ms|s)$/;

/** OpenAI writes a duration (`6m0s`); Azure OpenAI and gateways in front of it may write bare seconds (`60`). */
function resetDelay(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // Every reply carries two of these, so the common forms skip the general parser.
  const oneUnit = ONE_UNIT_DURATION.exec(value);
  if (oneUnit !== null) return Math.ceil(Number(oneUnit[1]) * (oneUnit[2] === 's' ? 1000 : 1));
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000);
  return parseDuration(value);
}

function untilTimestamp(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/** `retry-after` is either delay-seconds or an HTTP date. */
function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*[-+]?\d+(\.\d+)?\s*$/.test(value)) {
    const seconds = nonNegative(value);
    return seconds === undefined ? undefined : Math.ceil(seconds * 1000);
  }
  return untilTimestamp(value, nowMs);
}
