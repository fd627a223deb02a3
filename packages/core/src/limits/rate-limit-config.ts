/** A client-side rate limit for one provider's models. Each model (and tenant, with `per`) gets its own bucket. */
export interface RateLimitConfig {
  /** Provider the limit applies to, e.g. `'openai'`. */
  provider: string;
  /** Model or models the limit applies to (snapshots and aliases resolve to these). @default every model of the provider */
  model?: string | readonly string[];
  /** Give each tenant its own buckets as well. @default [] (one bucket set per model) */
  per?: readonly 'tenant'[];
  /** Requests per minute, refilled smoothly. */
  rpm?: number;
  /** Tokens per minute, refilled smoothly. A call weighs its estimated input tokens plus its maximum output tokens. */
  tpm?: number;
  /** Calls in flight at once. */
  maxConcurrent?: number;
  /** Request bucket size: how many requests may start at once after a quiet spell. @default rpm */
  burstRequests?: number;
  /** Token bucket size. A call heavier than this can never run and is rejected at once. @default tpm */
  burstTokens?: number;
  /** How long a call may queue before it is rejected with `RateLimitedError`. @default 10_000 */
  maxWaitMillis?: number;
}
