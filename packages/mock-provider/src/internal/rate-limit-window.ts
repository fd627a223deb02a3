import type { RateLimitKnobs } from '../mock-options';
import type { MockProviderName } from '../served-request';

const WINDOW_MILLIS = 60_000;

/** What one request saw of its rate-limit window. */
export interface RateLimitSnapshot {
  limitRequests: number;
  limitTokens: number;
  remainingRequests: number;
  remainingTokens: number;
  /** Until the request window is full again. */
  resetRequestsMillis: number;
  /** Until the token window is full again. */
  resetTokensMillis: number;
  /** The request was admitted (always true unless `enforce` is on). */
  admitted: boolean;
  /** With `admitted: false`: how long until it would fit. */
  retryAfterMillis: number;
  /** With `admitted: false`: which limit refused it. */
  exceeded?: 'requests' | 'tokens';
}

/**
 * Per-minute limits that refill continuously, like the providers' own: usage drains at
 * `limit / 60 s`, so the reset time is how long the used part takes to drain.
 */
export class RateLimitWindows {
  readonly #windows = new Map<string, { requests: number; tokens: number; atMs: number }>();

  /** Charges one request of `tokens` to the provider+model window and reports the state after it. */
  consume(
    knobs: RateLimitKnobs,
    provider: MockProviderName,
    model: string,
    tokens: number,
    nowMs: number,
  ): RateLimitSnapshot {
    const key = `${provider}\u0000${model}`;
    let window = this.#windows.get(key);
    if (!window) {
      window = { requests: 0, tokens: 0, atMs: nowMs };
      this.#windows.set(key, window);
    }
    const elapsed = Math.max(0, nowMs - window.atMs);
    window.requests = Math.max(0, window.requests - (knobs.limitRequests * elapsed) / WINDOW_MILLIS);
    window.tokens = Math.max(0, window.tokens - (knobs.limitTokens * elapsed) / WINDOW_MILLIS);
    window.atMs = nowMs;

    const requestsOver = window.requests + 1 - knobs.limitRequests;
    const tokensOver = window.tokens + tokens - knobs.limitTokens;
    let admitted = true;
    let retryAfterMillis = 0;
    let exceeded: 'requests' | 'tokens' | undefined;
    if (knobs.enforce && (requestsOver > 1e-9 || tokensOver > 1e-9)) {
      admitted = false;
      const requestsWait = (Math.max(0, requestsOver) / knobs.limitRequests) * WINDOW_MILLIS;
      const tokensWait = (Math.max(0, tokensOver) / knobs.limitTokens) * WINDOW_MILLIS;
      exceeded = requestsWait >= tokensWait ? 'requests' : 'tokens';
      // A request bigger than the whole window never fits; say so with an hour rather than Infinity.
      retryAfterMillis = Math.ceil(
        tokens > knobs.limitTokens ? 3_600_000 : Math.max(requestsWait, tokensWait),
      );
    } else {
      window.requests += 1;
      window.tokens += tokens;
    }
    const snapshot: RateLimitSnapshot = {
      limitRequests: knobs.limitRequests,
      limitTokens: knobs.limitTokens,
      remainingRequests: Math.max(0, Math.floor(knobs.limitRequests - window.requests)),
      remainingTokens: Math.max(0, Math.floor(knobs.limitTokens - window.tokens)),
      resetRequestsMillis: Math.ceil((window.requests / knobs.limitRequests) * WINDOW_MILLIS),
      resetTokensMillis: Math.ceil((window.tokens / knobs.limitTokens) * WINDOW_MILLIS),
      admitted,
      retryAfterMillis,
    };
    if (exceeded) snapshot.exceeded = exceeded;
    return snapshot;
  }

  clear(): void {
    this.#windows.clear();
  }
}

/** OpenAI's `x-ratelimit-*` headers. */
export function openaiRateLimitHeaders(snapshot: RateLimitSnapshot): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(snapshot.limitRequests),
    'x-ratelimit-limit-tokens': String(snapshot.limitTokens),
    'x-ratelimit-remaining-requests': String(snapshot.remainingRequests),
    'x-ratelimit-remaining-tokens': String(snapshot.remainingTokens),
    'x-ratelimit-reset-requests': formatGoDuration(snapshot.resetRequestsMillis),
    'x-ratelimit-reset-tokens': formatGoDuration(snapshot.resetTokensMillis),
  };
}

/** Anthropic's `anthropic-ratelimit-*` headers; resets are RFC 3339 instants. */
export function anthropicRateLimitHeaders(
  snapshot: RateLimitSnapshot,
  nowMs: number,
): Record<string, string> {
  return {
    'anthropic-ratelimit-requests-limit': String(snapshot.limitRequests),
    'anthropic-ratelimit-requests-remaining': String(snapshot.remainingRequests),
    'anthropic-ratelimit-requests-reset': rfc3339(nowMs + snapshot.resetRequestsMillis),
    'anthropic-ratelimit-tokens-limit': String(snapshot.limitTokens),
    'anthropic-ratelimit-tokens-remaining': String(snapshot.remainingTokens),
    'anthropic-ratelimit-tokens-reset': rfc3339(nowMs + snapshot.resetTokensMillis),
  };
}

/** Durations the way OpenAI writes them (Go's format): `0s`, `120ms`, `1s`, `6m0s`, `1h2m3.5s`. */
export function formatGoDuration(millis: number): string {
  const ms = Math.max(0, Math.round(millis));
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

/** Whole-second RFC 3339 timestamp in UTC, rounded up so the reset is never early. */
function rfc3339(ms: number): string {
  return `${new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}
