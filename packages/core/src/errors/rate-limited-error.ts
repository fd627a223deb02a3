import { isBranded, TollgateError } from './tollgate-error';

/** Why a rate limit refused a call. */
export type RateLimitReason =
  /** The call waited `maxWaitMillis` in the queue without being admitted. */
  | 'max-wait-exceeded'
  /** The call's weight exceeds what the bucket can ever hold; it would never be admitted. */
  | 'weight-exceeds-capacity'
  /** The provider asked clients to back off (429 / `retry-after`) for longer than the call may wait. */
  | 'provider-backoff';

/** A rate limit refused the call; the request was never sent. Retry after `retryAfterMs`, if finite. */
export class RateLimitedError extends TollgateError {
  static readonly code = 'TOLLGATE_RATE_LIMITED';
  /** Which limiter refused, e.g. `openai:gpt-4o-mini` or `openai:gpt-4o-mini:tenant=acme`. */
  readonly limiterKey: string;
  readonly reason: RateLimitReason;
  /** Suggested wait before retrying; `Infinity` when the call can never fit. */
  readonly retryAfterMs: number;

  constructor(limiterKey: string, reason: RateLimitReason, retryAfterMs: number, detail: string) {
    super(
      RateLimitedError.code,
      `Rate limit "${limiterKey}" refused the call (${reason}): ${detail}. The request was not sent.`,
    );
    this.limiterKey = limiterKey;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }

  static override isInstance(value: unknown): value is RateLimitedError {
    return isBranded(value, RateLimitedError.code);
  }
}
